using System.Numerics;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Size-constrained k-means (squared Euclidean): k-means++ seeding, then Lloyd iterations whose assignment step
/// respects per-cluster size bounds (<see cref="CapacitatedAssignment"/>). Deterministic for a given seed.
/// Used for the v1 clustering split (exact sizes) and v2's router centroids (jittered bounds).
/// </summary>
public static class BalancedKMeans
{
    /// <summary>Clusters <paramref name="points"/> row-major vectors of <paramref name="dimension"/> floats.</summary>
    /// <param name="data">Row-major <c>(N, D)</c> data.</param>
    /// <param name="points">N.</param>
    /// <param name="dimension">D.</param>
    /// <param name="options">Cluster count (length of the size lists), bounds, iterations, restarts and seed.</param>
    /// <exception cref="LlamaMoeException">LMOE2105 when the bounds cannot be met or the data is malformed.</exception>
    /// <param name="device">
    /// Where the point-to-centroid distances (the O(N·k·D) part) are computed: null or the CPU uses the host's SIMD
    /// loop; a CUDA device holds the points once and computes each round's distances as one matmul there. The capacitated
    /// assignment and the means stay on the host (they are O(N·k) and O(N·D)).
    /// </param>
    public static BalancedKMeansResult Fit(float[] data, int points, int dimension, BalancedKMeansOptions options, Device? device = null)
    {
        Check(data, points, dimension, options);
        using var kernel = new KMeansDistances(data, points, dimension, device);
        var clusters = options.MinSizes.Count;
        var threshold = options.Tolerance * MeanFeatureVariance(data, points, dimension);
        var random = new SeededRandom(options.Seed);
        BalancedKMeansResult? best = null;
        for (var restart = 0; restart < Math.Max(1, options.Restarts); restart++)
        {
            var centroids = SeedPlusPlus(kernel, data, points, dimension, clusters, random);
            var result = Lloyd(kernel, data, points, dimension, centroids, options, threshold);
            if (best is null || result.Inertia < best.Inertia)
            {
                best = result;
            }
        }

        return best!;
    }

    /// <summary>Squared Euclidean distances <c>(N, K)</c> of every point to every centroid.</summary>
    public static float[] SquaredDistances(float[] data, int points, int dimension, float[] centroids, int clusters)
    {
        var distances = new float[points * clusters];
        var centroidNorms = new float[clusters];
        for (var c = 0; c < clusters; c++)
        {
            var row = centroids.AsSpan(c * dimension, dimension);
            centroidNorms[c] = Dot(row, row);
        }

        Parallel.For(0, points, point =>
        {
            var x = data.AsSpan(point * dimension, dimension);
            var norm = Dot(x, x);
            for (var c = 0; c < clusters; c++)
            {
                var d = norm - (2 * Dot(x, centroids.AsSpan(c * dimension, dimension))) + centroidNorms[c];
                distances[(point * clusters) + c] = Math.Max(0f, d);
            }
        });
        return distances;
    }

    private static BalancedKMeansResult Lloyd(KMeansDistances kernel, float[] data, int points, int dimension, float[] centroids, BalancedKMeansOptions options, double threshold)
    {
        var clusters = options.MinSizes.Count;
        int[] labels = [];
        var iterations = 0;
        for (var iteration = 1; iteration <= Math.Max(1, options.MaxIterations); iteration++)
        {
            iterations = iteration;
            var distances = kernel.SquaredDistances(centroids, clusters);
            var (minSizes, maxSizes) = options.InterchangeableBounds
                ? RankBounds(distances, points, clusters, options)
                : (options.MinSizes, options.MaxSizes);
            labels = CapacitatedAssignment.Assign(distances, points, minSizes, maxSizes);
            var updated = Means(data, points, dimension, labels, clusters, centroids);
            double shift = 0;
            for (var i = 0; i < updated.Length; i++)
            {
                shift += (updated[i] - centroids[i]) * (double)(updated[i] - centroids[i]);
            }

            centroids = updated;
            if (shift <= threshold)
            {
                break;
            }
        }

        double inertia = 0;
        for (var point = 0; point < points; point++)
        {
            var x = data.AsSpan(point * dimension, dimension);
            var c = centroids.AsSpan(labels[point] * dimension, dimension);
            for (var i = 0; i < dimension; i++)
            {
                inertia += (x[i] - c[i]) * (double)(x[i] - c[i]);
            }
        }

        return new BalancedKMeansResult(centroids, labels, inertia, iterations);
    }

    private static (IReadOnlyList<int> Min, IReadOnlyList<int> Max) RankBounds(float[] distances, int points, int clusters, BalancedKMeansOptions options)
    {
        var nearest = new int[clusters];
        for (var point = 0; point < points; point++)
        {
            var best = 0;
            for (var c = 1; c < clusters; c++)
            {
                if (distances[(point * clusters) + c] < distances[(point * clusters) + best])
                {
                    best = c;
                }
            }

            nearest[best]++;
        }

        var byDemand = Enumerable.Range(0, clusters).OrderByDescending(c => nearest[c]).ThenBy(c => c).ToArray();
        var bounds = Enumerable.Range(0, clusters).OrderByDescending(i => options.MaxSizes[i]).ThenByDescending(i => options.MinSizes[i]).ThenBy(i => i).ToArray();
        var min = new int[clusters];
        var max = new int[clusters];
        for (var rank = 0; rank < clusters; rank++)
        {
            min[byDemand[rank]] = options.MinSizes[bounds[rank]];
            max[byDemand[rank]] = options.MaxSizes[bounds[rank]];
        }

        return (min, max);
    }

    private static float[] Means(float[] data, int points, int dimension, int[] labels, int clusters, float[] previous)
    {
        var sums = new double[clusters * dimension];
        var counts = new int[clusters];
        for (var point = 0; point < points; point++)
        {
            var offset = labels[point] * dimension;
            counts[labels[point]]++;
            for (var i = 0; i < dimension; i++)
            {
                sums[offset + i] += data[(point * dimension) + i];
            }
        }

        var means = (float[])previous.Clone();
        for (var c = 0; c < clusters; c++)
        {
            if (counts[c] == 0)
            {
                continue; // an empty cluster (only possible with a zero minimum) keeps its centre
            }

            for (var i = 0; i < dimension; i++)
            {
                means[(c * dimension) + i] = (float)(sums[(c * dimension) + i] / counts[c]);
            }
        }

        return means;
    }

    private static float[] SeedPlusPlus(KMeansDistances kernel, float[] data, int points, int dimension, int clusters, SeededRandom random)
    {
        var centroids = new float[clusters * dimension];
        var first = random.NextInt(points);
        Array.Copy(data, first * dimension, centroids, 0, dimension);
        var nearest = kernel.SquaredDistances(centroids.AsSpan(0, dimension).ToArray(), 1);
        for (var c = 1; c < clusters; c++)
        {
            var total = nearest.Sum(d => (double)d);
            var pick = points - 1;
            if (total > 0)
            {
                var target = random.NextDouble() * total;
                double running = 0;
                for (var point = 0; point < points; point++)
                {
                    running += nearest[point];
                    if (running > target)
                    {
                        pick = point;
                        break;
                    }
                }
            }
            else
            {
                pick = random.NextInt(points);
            }

            Array.Copy(data, pick * dimension, centroids, c * dimension, dimension);
            var fresh = kernel.SquaredDistances(centroids.AsSpan(c * dimension, dimension).ToArray(), 1);
            for (var point = 0; point < points; point++)
            {
                nearest[point] = Math.Min(nearest[point], fresh[point]);
            }
        }

        return centroids;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var result = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }

        return result;
    }

    private static double MeanFeatureVariance(float[] data, int points, int dimension)
    {
        double total = 0;
        for (var i = 0; i < dimension; i++)
        {
            double mean = 0;
            double square = 0;
            for (var point = 0; point < points; point++)
            {
                double value = data[(point * dimension) + i];
                mean += value;
                square += value * value;
            }

            mean /= points;
            total += Math.Max(0, (square / points) - (mean * mean));
        }

        return total / dimension;
    }

    private static void Check(float[] data, int points, int dimension, BalancedKMeansOptions options)
    {
        var clusters = options.MinSizes.Count;
        string? problem = null;
        if (points < 1 || dimension < 1 || (long)points * dimension != data.Length)
        {
            problem = $"The data holds {data.Length} values, not {points} points of dimension {dimension}.";
        }
        else if (clusters < 1 || options.MaxSizes.Count != clusters)
        {
            problem = "The minimum and maximum cluster-size lists must have one entry per cluster.";
        }
        else if (Enumerable.Range(0, clusters).Any(c => options.MinSizes[c] < 0 || options.MinSizes[c] > options.MaxSizes[c]))
        {
            problem = "Every cluster needs 0 ≤ minimum size ≤ maximum size.";
        }
        else if (options.MinSizes.Sum() > points || options.MaxSizes.Sum() < points)
        {
            problem = $"{points} points cannot meet the cluster-size bounds (minimums sum to {options.MinSizes.Sum()}, maximums to {options.MaxSizes.Sum()}).";
        }
        else if (points < clusters)
        {
            problem = $"{points} points are fewer than the {clusters} clusters.";
        }
        else if (data.Any(value => !float.IsFinite(value)))
        {
            problem = "The data to cluster contains NaN or infinite values.";
        }

        if (problem is not null)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.BalancedKMeansFailed, problem, key: "balanced_kmeans", advice: "Collect more calibration tokens or loosen the balance jitter; check the inputs for NaN.");
        }
    }
}
