using LlamaMoe.Pipeline.Splitting;

namespace MyModel.Splitter;

/// <summary>
/// Splits a layer's neurons by the L2 norm of their down-projection column (how much each neuron can write into the
/// residual stream), dealt in snake order: sorted strongest first, neurons go to experts 0,1,..,E-1,E-1,..,1,0,0,1,..
/// so every expert gets an equal count (±1) and a near-equal share of the total output norm. Deterministic: ties
/// break by neuron index, the seed is not used.
/// </summary>
/// <param name="descending">True: the strongest neuron is dealt first (to expert 0).</param>
public sealed class DownNormSnakeSplitter(bool descending) : IMlpSplitter
{
    /// <inheritdoc />
    public ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(experts, 1);
        var norms = DownColumnNorms(layer);
        var order = Enumerable.Range(0, layer.Intermediate)
            .OrderBy(n => descending ? -norms[n] : norms[n])
            .ThenBy(n => n)
            .ToArray();
        var assignment = new List<int>[experts];
        for (var e = 0; e < experts; e++)
        {
            assignment[e] = [];
        }

        for (var rank = 0; rank < order.Length; rank++)
        {
            var round = rank / experts;
            var position = rank % experts;
            var expert = round % 2 == 0 ? position : experts - 1 - position;
            assignment[expert].Add(order[rank]);
        }

        return new ExpertPartition([.. assignment.Select(list => (IReadOnlyList<int>)[.. list.Order()])], []);
    }

    /// <summary>Per neuron i, the L2 norm of column i of down (H, I) row-major.</summary>
    public static double[] DownColumnNorms(MlpLayerWeights layer)
    {
        var down = layer.Down.Span;
        var norms = new double[layer.Intermediate];
        for (var h = 0; h < layer.Hidden; h++)
        {
            var row = down.Slice(h * layer.Intermediate, layer.Intermediate);
            for (var i = 0; i < row.Length; i++)
            {
                norms[i] += (double)row[i] * row[i];
            }
        }

        for (var i = 0; i < norms.Length; i++)
        {
            norms[i] = Math.Sqrt(norms[i]);
        }

        return norms;
    }
}
