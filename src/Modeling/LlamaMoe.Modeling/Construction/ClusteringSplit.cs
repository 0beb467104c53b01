using LlamaMoe.Construction;
namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// v1 Independent_Clustering (spec §1.2 C): the rows of one MLP weight matrix (v1's maintainers use up_proj;
/// gate_proj works the same), L2-normalised, clustered by size-constrained k-means into experts of exact sizes.
/// </summary>
public static class ClusteringSplit
{
    /// <summary>Splits the neurons by clustering their weight rows.</summary>
    /// <param name="weightRows">Row-major <c>(I, H)</c> weights, one row per neuron (up_proj or gate_proj).</param>
    /// <param name="neurons">I.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="experts">E.</param>
    /// <param name="seed">Seed of the k-means++ draws (v1: random_state 0).</param>
    /// <param name="sizes">Explicit sizes summing to I, or null for balanced sizes.</param>
    /// <param name="maxIterations">Lloyd iterations (v1: 500).</param>
    /// <param name="normalize">L2-normalise every row first (v1 does).</param>
    public static ExpertPartition Split(
        float[] weightRows,
        int neurons,
        int hiddenSize,
        int experts,
        long seed = 0,
        IReadOnlyList<int>? sizes = null,
        int maxIterations = 500,
        bool normalize = true)
    {
        var resolved = ExpertSizes.Resolve(neurons, experts, sizes);
        var data = normalize ? NormalizeRows(weightRows, neurons, hiddenSize) : weightRows;
        var options = BalancedKMeansOptions.Exact(resolved, seed, maxIterations) with { InterchangeableBounds = true };
        var clusters = ExpertPartition.FromLabels(BalancedKMeans.Fit(data, neurons, hiddenSize, options).Labels, experts).Experts;
        // Cluster ids carry no size meaning: hand every requested size to a cluster of exactly that size.
        var remaining = clusters.ToList();
        var sets = new int[experts][];
        for (var e = 0; e < experts; e++)
        {
            var match = remaining.First(set => set.Length == resolved[e]);
            remaining.Remove(match);
            sets[e] = match;
        }

        return new ExpertPartition(neurons, sets, null, false);
    }

    private static float[] NormalizeRows(float[] rows, int count, int width)
    {
        var normalized = new float[rows.Length];
        for (var row = 0; row < count; row++)
        {
            double square = 0;
            for (var i = 0; i < width; i++)
            {
                square += rows[(row * width) + i] * (double)rows[(row * width) + i];
            }

            var scale = square > 0 ? 1.0 / Math.Sqrt(square) : 0.0;
            for (var i = 0; i < width; i++)
            {
                normalized[(row * width) + i] = (float)(rows[(row * width) + i] * scale);
            }
        }

        return normalized;
    }
}
