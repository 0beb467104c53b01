using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>The residual-expert rule of the splits that have no own residual variant (random, sequential, clustering, co-activation).</summary>
public static class ResidualExpert
{
    /// <summary>
    /// From E+N balanced sets, makes the N smallest sets that fire most often (by the calibration's active frequency;
    /// the last N without calibration) the residual expert and keeps the other E as routed experts.
    /// </summary>
    /// <param name="sets">E+N sets.</param>
    /// <param name="experts">E, the routed experts to keep.</param>
    /// <param name="statistics">The layer's calibration statistics, or null.</param>
    public static ExpertPartition Carve(ExpertPartition sets, int experts, LayerStatistics? statistics)
    {
        if (sets.ExpertCount == experts)
        {
            return sets;
        }

        // Larger sets first, so the residual always takes sets of the same (smallest) size and every layer gets the
        // same intermediate_size_residual; among equal sizes, the most active sets become the residual.
        var frequency = statistics?.ActiveFrequency;
        var order = Enumerable.Range(0, sets.ExpertCount)
            .OrderByDescending(e => sets.Experts[e].Length)
            .ThenBy(e => frequency is null ? 0.0 : sets.Experts[e].Average(n => frequency[n]))
            .ThenBy(e => e)
            .ToArray();

        var residual = order.Skip(experts).SelectMany(e => sets.Experts[e]).Order().ToArray();
        var routed = order.Take(experts).Order().Select(e => sets.Experts[e]).ToArray();
        return new ExpertPartition(sets.NeuronCount, routed, residual, false);
    }

    /// <summary>The sizes of E+N sets: the explicit routed sizes (no residual then) or null for balanced shares.</summary>
    internal static IReadOnlyList<int>? Sizes(SplitRequest request) => request.ResidualExperts > 0 ? null : request.Sizes;
}
