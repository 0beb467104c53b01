using LlamaMoe.Pipeline.Splitting;

namespace MySplitter;

/// <summary>
/// Splits a layer's neurons into contiguous blocks of its neurons sorted by importance, where a neuron's importance is
/// the product of the L2 norms of its gate row and its up row (a bound on how strongly it can fire). Expert 0 gets the
/// most important block. Block sizes differ by at most one. Deterministic: ties break by neuron index.
/// </summary>
public sealed class NormBlocksSplitter : IMlpSplitter
{
    /// <inheritdoc />
    public ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed)
    {
        if (experts < 1 || experts > layer.Intermediate)
        {
            throw new LlamaMoe.LlamaMoeException("LMOE2050", $"layer {layer.LayerIndex} has {layer.Intermediate} neurons, which cannot make {experts} non-empty experts",
                key: "experts", advice: $"Use between 1 and {layer.Intermediate} experts.");
        }

        var importance = Importance(layer);
        var order = Enumerable.Range(0, layer.Intermediate).OrderByDescending(n => importance[n]).ThenBy(n => n).ToArray();
        var blocks = new IReadOnlyList<int>[experts];
        var start = 0;
        for (var e = 0; e < experts; e++)
        {
            var size = layer.Intermediate / experts + (e < layer.Intermediate % experts ? 1 : 0);
            blocks[e] = [.. order.Skip(start).Take(size).Order()];
            start += size;
        }

        return new ExpertPartition(blocks, []);
    }

    /// <summary>Per neuron n: |gate row n| * |up row n| (gate and up are (I, H) row-major).</summary>
    public static double[] Importance(MlpLayerWeights layer)
    {
        var gate = layer.Gate.Span;
        var up = layer.Up.Span;
        var importance = new double[layer.Intermediate];
        for (var n = 0; n < layer.Intermediate; n++)
        {
            double gateSquares = 0, upSquares = 0;
            for (var h = 0; h < layer.Hidden; h++)
            {
                gateSquares += (double)gate[n * layer.Hidden + h] * gate[n * layer.Hidden + h];
                upSquares += (double)up[n * layer.Hidden + h] * up[n * layer.Hidden + h];
            }

            importance[n] = Math.Sqrt(gateSquares) * Math.Sqrt(upSquares);
        }

        return importance;
    }
}
