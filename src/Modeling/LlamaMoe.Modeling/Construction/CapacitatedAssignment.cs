namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Assigns N points to K clusters under per-cluster size bounds, approximately minimising the summed distance:
/// a greedy pass over (point, cluster) pairs in ascending distance with capacities, a repair pass that fills clusters
/// below their minimum at the least extra cost, then pairwise exchange passes (swaps and moves between every pair
/// of clusters) until no exchange lowers the cost. An approximation of the exact min-cost-flow assignment of
/// <c>k-means-constrained</c>: always feasible, never worse than the greedy start.
/// </summary>
internal static class CapacitatedAssignment
{
    private const int MaxExchangePasses = 50;

    /// <param name="distances">Row-major <c>(N, K)</c> distances.</param>
    /// <param name="points">N.</param>
    /// <param name="minSizes">Least points per cluster.</param>
    /// <param name="maxSizes">Most points per cluster.</param>
    public static int[] Assign(float[] distances, int points, IReadOnlyList<int> minSizes, IReadOnlyList<int> maxSizes)
    {
        var clusters = minSizes.Count;
        var labels = GreedyFill(distances, points, clusters, maxSizes);
        var counts = new int[clusters];
        foreach (var label in labels)
        {
            counts[label]++;
        }

        RepairMinimums(distances, labels, counts, clusters, minSizes);
        for (var pass = 0; pass < MaxExchangePasses; pass++)
        {
            var improved = false;
            for (var a = 0; a < clusters; a++)
            {
                for (var b = a + 1; b < clusters; b++)
                {
                    improved |= Exchange(distances, labels, counts, clusters, a, b, minSizes, maxSizes);
                }
            }

            if (!improved)
            {
                break;
            }
        }

        return labels;
    }

    private static int[] GreedyFill(float[] distances, int points, int clusters, IReadOnlyList<int> maxSizes)
    {
        var keys = (float[])distances.Clone();
        var pairs = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, pairs);
        var labels = new int[points];
        Array.Fill(labels, -1);
        var counts = new int[clusters];
        var assigned = 0;
        foreach (var pair in pairs)
        {
            var point = pair / clusters;
            var cluster = pair % clusters;
            if (labels[point] < 0 && counts[cluster] < maxSizes[cluster])
            {
                labels[point] = cluster;
                counts[cluster]++;
                if (++assigned == points)
                {
                    break;
                }
            }
        }

        return labels;
    }

    private static void RepairMinimums(float[] distances, int[] labels, int[] counts, int clusters, IReadOnlyList<int> minSizes)
    {
        for (var target = 0; target < clusters; target++)
        {
            while (counts[target] < minSizes[target])
            {
                var best = -1;
                var bestCost = double.PositiveInfinity;
                for (var point = 0; point < labels.Length; point++)
                {
                    var from = labels[point];
                    if (from == target || counts[from] <= minSizes[from])
                    {
                        continue;
                    }

                    double cost = distances[(point * clusters) + target] - distances[(point * clusters) + from];
                    if (cost < bestCost)
                    {
                        best = point;
                        bestCost = cost;
                    }
                }

                counts[labels[best]]--;
                labels[best] = target;
                counts[target]++;
            }
        }
    }

    private static bool Exchange(float[] distances, int[] labels, int[] counts, int clusters, int a, int b, IReadOnlyList<int> minSizes, IReadOnlyList<int> maxSizes)
    {
        // Gain of moving a point from its cluster to the other one (positive = cheaper there).
        var fromA = Candidates(distances, labels, clusters, a, b);
        var fromB = Candidates(distances, labels, clusters, b, a);
        var improved = false;
        var swaps = 0;
        while (swaps < fromA.Count && swaps < fromB.Count && fromA[swaps].Gain + fromB[swaps].Gain > 1e-9)
        {
            labels[fromA[swaps].Point] = b;
            labels[fromB[swaps].Point] = a;
            swaps++;
            improved = true;
        }

        improved |= Move(fromA, swaps, labels, counts, a, b, minSizes, maxSizes);
        improved |= Move(fromB, swaps, labels, counts, b, a, minSizes, maxSizes);
        return improved;
    }

    private static bool Move(List<(int Point, double Gain)> candidates, int start, int[] labels, int[] counts, int from, int to, IReadOnlyList<int> minSizes, IReadOnlyList<int> maxSizes)
    {
        var moved = false;
        for (var i = start; i < candidates.Count && candidates[i].Gain > 1e-9 && counts[from] > minSizes[from] && counts[to] < maxSizes[to]; i++)
        {
            labels[candidates[i].Point] = to;
            counts[from]--;
            counts[to]++;
            moved = true;
        }

        return moved;
    }

    private static List<(int Point, double Gain)> Candidates(float[] distances, int[] labels, int clusters, int from, int to)
    {
        var list = new List<(int Point, double Gain)>();
        for (var point = 0; point < labels.Length; point++)
        {
            if (labels[point] == from)
            {
                list.Add((point, (double)distances[(point * clusters) + from] - distances[(point * clusters) + to]));
            }
        }

        list.Sort((x, y) => y.Gain.CompareTo(x.Gain) is var order && order != 0 ? order : x.Point.CompareTo(y.Point));
        return list;
    }
}
