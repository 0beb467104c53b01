namespace LlamaMoe.Modeling.Construction;

/// <summary>Outcome of <see cref="BalancedKMeans.Fit"/>.</summary>
/// <param name="Centroids">Cluster centres, row-major <c>(K, D)</c>.</param>
/// <param name="Labels">Cluster of every point, length N.</param>
/// <param name="Inertia">Sum of squared distances of the points to their centres.</param>
/// <param name="Iterations">Lloyd iterations run by the winning restart.</param>
public sealed record BalancedKMeansResult(float[] Centroids, int[] Labels, double Inertia, int Iterations)
{
    /// <summary>Points per cluster.</summary>
    public int[] Sizes(int clusters)
    {
        var sizes = new int[clusters];
        foreach (var label in Labels)
        {
            sizes[label]++;
        }

        return sizes;
    }
}
