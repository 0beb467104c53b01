using LlamaMoe;
using LlamaMoe.Pipeline.Splitting;

namespace MagnitudeSplitter;

/// <summary>
/// Sorts a layer's neurons by the L2 norm of their concatenated gate and up rows (descending, ties by index),
/// optionally keeps the strongest as a residual block, and deals the rest into experts.
/// </summary>
public sealed class MagnitudeSplitter(DealMode mode, int residual) : IMlpSplitter
{
    /// <inheritdoc />
    public ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed)
    {
        var available = layer.Intermediate - residual;
        if (available < experts)
        {
            throw new LlamaMoeException("LMOE2051", $"layer {layer.LayerIndex} has {layer.Intermediate} neurons; {experts} experts plus {residual} residual neurons do not fit",
                key: "experts", advice: "Use fewer experts or a smaller residual.");
        }

        var norms = new double[layer.Intermediate];
        for (var neuron = 0; neuron < layer.Intermediate; neuron++)
        {
            double sum = 0;
            foreach (var w in layer.GateRow(neuron))
            {
                sum += (double)w * w;
            }

            foreach (var w in layer.UpRow(neuron))
            {
                sum += (double)w * w;
            }

            norms[neuron] = Math.Sqrt(sum);
        }

        var order = Enumerable.Range(0, layer.Intermediate).OrderByDescending(n => norms[n]).ThenBy(n => n).ToArray();
        var groups = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToArray();
        var rest = order.Skip(residual).ToArray();
        var chunk = (rest.Length + experts - 1) / experts;
        for (var k = 0; k < rest.Length; k++)
        {
            var expert = mode == DealMode.RoundRobin ? k % experts : Math.Min(k / chunk, experts - 1);
            groups[expert].Add(rest[k]);
        }

        return new ExpertPartition(
            groups.Select(g => (IReadOnlyList<int>)g.Order().ToList()).ToList(),
            order.Take(residual).Order().ToList());
    }
}
