using LlamaMoe.Construction;
namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// v1 co-activation (MoEfication) split (spec §1.2 D): neurons that fire together go to the same expert, by a
/// balanced partition of the co-activation graph with exact expert sizes (our own partitioner instead of METIS
/// followed by random rebalancing).
/// </summary>
public static class CoactivationSplit
{
    /// <summary>Splits the neurons by partitioning their co-activation graph.</summary>
    /// <param name="coactivation">Row-major <c>(I, I)</c> symmetric co-activation weights (see <see cref="CoactivationGraph"/>).</param>
    /// <param name="neurons">I.</param>
    /// <param name="experts">E.</param>
    /// <param name="seed">Seed of the partitioner's start nodes.</param>
    /// <param name="sizes">Explicit sizes summing to I, or null for balanced sizes.</param>
    public static ExpertPartition Split(float[] coactivation, int neurons, int experts, long seed = 0, IReadOnlyList<int>? sizes = null)
    {
        var resolved = ExpertSizes.Resolve(neurons, experts, sizes);
        var labels = GraphPartitioner.Partition(coactivation, neurons, resolved, seed);
        return ExpertPartition.FromLabels(labels, experts);
    }
}
