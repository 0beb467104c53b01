namespace LlamaMoe.Modeling.Construction;

/// <summary>Settings of <see cref="BalancedKMeans"/>.</summary>
/// <param name="MinSizes">Least points per cluster (one entry per cluster).</param>
/// <param name="MaxSizes">Most points per cluster; equal to <paramref name="MinSizes"/> for exact sizes.</param>
/// <param name="MaxIterations">Lloyd iterations per restart.</param>
/// <param name="Tolerance">Stop when the squared centroid movement falls below this fraction of the data variance (sklearn's rule).</param>
/// <param name="Restarts">Independent k-means++ starts; the one with the lowest inertia wins.</param>
/// <param name="Seed">Seed of the k-means++ draws.</param>
/// <param name="InterchangeableBounds">
/// The bounds belong to no particular cluster: before every assignment they are handed out so that the clusters
/// with the most nearest points get the largest bounds (the cluster ids then carry no size meaning).
/// </param>
public sealed record BalancedKMeansOptions(
    IReadOnlyList<int> MinSizes,
    IReadOnlyList<int> MaxSizes,
    int MaxIterations = 100,
    double Tolerance = 1e-3,
    int Restarts = 1,
    long Seed = 0,
    bool InterchangeableBounds = false)
{
    /// <summary>Exact cluster sizes (each cluster gets exactly <c>sizes[c]</c> points).</summary>
    public static BalancedKMeansOptions Exact(IReadOnlyList<int> sizes, long seed = 0, int maxIterations = 100, int restarts = 1) =>
        new(sizes, sizes, maxIterations, 1e-3, restarts, seed);

    /// <summary>
    /// v2's jittered bounds for <paramref name="points"/> points in <paramref name="clusters"/> clusters:
    /// <c>⌊N/E·(1−j)⌋ … ⌈N/E·(1+j)⌉</c> (v2 uses j = 0.4, 16 restarts, 100 iterations, tol 1e-3).
    /// </summary>
    public static BalancedKMeansOptions Jittered(int points, int clusters, double jitter = 0.4, long seed = 114514, int restarts = 16, int maxIterations = 100)
    {
        var mean = (double)points / clusters;
        var min = (int)Math.Floor(mean * (1 - jitter));
        var max = Math.Min(points, (int)Math.Ceiling(mean * (1 + jitter)));
        return new(Enumerable.Repeat(min, clusters).ToArray(), Enumerable.Repeat(max, clusters).ToArray(), maxIterations, 1e-3, restarts, seed);
    }
}
