namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Balanced k-way partition of a weighted undirected graph with exact part sizes, maximising the weight inside parts
/// (minimising the cut). Replaces v1's METIS call plus random rebalancing: greedy region growing from seeded start
/// nodes, then Kernighan–Lin style pairwise swap refinement (sizes never change) until no swap improves the cut.
/// </summary>
public static class GraphPartitioner
{
    private const int SwapCandidates = 24;
    private const int MaxPasses = 30;

    /// <summary>Partitions the nodes of a symmetric adjacency matrix.</summary>
    /// <param name="adjacency">Row-major <c>(n, n)</c> symmetric, non-negative edge weights (the diagonal is ignored).</param>
    /// <param name="nodes">n.</param>
    /// <param name="sizes">Exact size of every part, summing to n.</param>
    /// <param name="seed">Seed choosing the start node of every part.</param>
    /// <returns>The part of every node.</returns>
    public static int[] Partition(float[] adjacency, int nodes, IReadOnlyList<int> sizes, long seed)
    {
        if ((long)nodes * nodes != adjacency.Length || sizes.Sum() != nodes)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CoactivationSizeMismatch, $"The co-activation matrix must be {nodes}×{nodes} and the part sizes must sum to {nodes}.", key: "coactivation", advice: "Accumulate the co-activation graph over the full intermediate size of the layer.");
        }

        var labels = Grow(adjacency, nodes, sizes, new SeededRandom(seed));
        Refine(adjacency, nodes, sizes.Count, labels);
        return labels;
    }

    /// <summary>Total weight of the edges whose ends lie in different parts (each edge counted once).</summary>
    public static double CutWeight(float[] adjacency, int nodes, int[] labels)
    {
        double cut = 0;
        for (var u = 0; u < nodes; u++)
        {
            for (var v = u + 1; v < nodes; v++)
            {
                if (labels[u] != labels[v])
                {
                    cut += adjacency[(u * nodes) + v];
                }
            }
        }

        return cut;
    }

    private static int[] Grow(float[] adjacency, int nodes, IReadOnlyList<int> sizes, SeededRandom random)
    {
        var labels = new int[nodes];
        Array.Fill(labels, -1);
        var unassigned = nodes;
        for (var part = 0; part < sizes.Count; part++)
        {
            var connection = new double[nodes];
            for (var taken = 0; taken < sizes[part]; taken++)
            {
                int next;
                if (taken == 0)
                {
                    // Seeded start: the k-th unassigned node, k drawn uniformly.
                    var k = random.NextInt(unassigned);
                    next = Enumerable.Range(0, nodes).Where(u => labels[u] < 0).ElementAt(k);
                }
                else
                {
                    next = -1;
                    for (var u = 0; u < nodes; u++)
                    {
                        if (labels[u] < 0 && (next < 0 || connection[u] > connection[next]))
                        {
                            next = u;
                        }
                    }
                }

                labels[next] = part;
                unassigned--;
                var row = adjacency.AsSpan(next * nodes, nodes);
                for (var u = 0; u < nodes; u++)
                {
                    connection[u] += row[u];
                }
            }
        }

        return labels;
    }

    private static void Refine(float[] adjacency, int nodes, int parts, int[] labels)
    {
        // link[u, p] = total weight from u to the nodes of part p (u itself excluded).
        var link = new double[nodes * parts];
        for (var u = 0; u < nodes; u++)
        {
            for (var v = 0; v < nodes; v++)
            {
                if (u != v)
                {
                    link[(u * parts) + labels[v]] += adjacency[(u * nodes) + v];
                }
            }
        }

        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var improved = false;
            for (var a = 0; a < parts; a++)
            {
                for (var b = a + 1; b < parts; b++)
                {
                    while (TryBestSwap(adjacency, nodes, parts, labels, link, a, b))
                    {
                        improved = true;
                    }
                }
            }

            if (!improved)
            {
                break;
            }
        }
    }

    private static bool TryBestSwap(float[] adjacency, int nodes, int parts, int[] labels, double[] link, int a, int b)
    {
        var fromA = TopGains(nodes, parts, labels, link, a, b);
        var fromB = TopGains(nodes, parts, labels, link, b, a);
        var bestGain = 1e-9;
        (int U, int V) best = (-1, -1);
        foreach (var (u, gainU) in fromA)
        {
            foreach (var (v, gainV) in fromB)
            {
                var gain = gainU + gainV - (2.0 * adjacency[(u * nodes) + v]);
                if (gain > bestGain)
                {
                    bestGain = gain;
                    best = (u, v);
                }
            }
        }

        if (best.U < 0)
        {
            return false;
        }

        labels[best.U] = b;
        labels[best.V] = a;
        for (var x = 0; x < nodes; x++)
        {
            double toU = x == best.U ? 0 : adjacency[(x * nodes) + best.U];
            double toV = x == best.V ? 0 : adjacency[(x * nodes) + best.V];
            link[(x * parts) + a] += toV - toU;
            link[(x * parts) + b] += toU - toV;
        }

        return true;
    }

    private static List<(int Node, double Gain)> TopGains(int nodes, int parts, int[] labels, double[] link, int from, int to)
    {
        var gains = new List<(int Node, double Gain)>();
        for (var u = 0; u < nodes; u++)
        {
            if (labels[u] == from)
            {
                gains.Add((u, link[(u * parts) + to] - link[(u * parts) + from]));
            }
        }

        gains.Sort((x, y) => y.Gain.CompareTo(x.Gain) is var order && order != 0 ? order : x.Node.CompareTo(y.Node));
        return gains.Count > SwapCandidates ? gains.GetRange(0, SwapCandidates) : gains;
    }
}
