using LlamaMoe.Construction;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Importance-driven splits over per-cluster neuron importance <c>s_c[j]</c> (E clusters × I neurons), as computed by
/// <see cref="ImportanceAccumulator"/>: v2's greedy balanced assignment (spec §1.2 E3), v2's residual selection
/// ("Gradient Split Plus", §1.2 G) and v1's inner sharing (§1.2 F).
/// </summary>
public static class GradientSplit
{
    /// <summary>
    /// v2 neuron-independent greedy (criterion <c>max</c>): every expert walks its neurons in descending importance
    /// (equal scores in ascending neuron order); at each step, among experts that are not full, the one whose next
    /// unused neuron has the largest score takes it (equal scores: the higher expert index wins).
    /// Non-overlapping; expert e gets exactly <c>sizes[e]</c> neurons (balanced by default).
    /// </summary>
    /// <param name="importance">One array of I scores per expert (cluster).</param>
    /// <param name="sizes">Explicit sizes summing to I, or null for balanced sizes.</param>
    public static ExpertPartition Greedy(IReadOnlyList<float[]> importance, IReadOnlyList<int>? sizes = null)
    {
        var neurons = CheckShape(importance);
        var resolved = ExpertSizes.Resolve(neurons, importance.Count, sizes);
        var sets = AssignGreedy(importance, Enumerable.Range(0, neurons).ToArray(), resolved);
        return new ExpertPartition(neurons, sets, null, false);
    }

    /// <summary>
    /// v2 residual split. The I neurons are divided into <c>E + residualExperts</c> balanced shares m; the residual
    /// expert collects <c>residualExperts·m</c> neurons that are important for the most clusters, then the rest are
    /// split among the E routed experts with <see cref="Greedy"/>'s rule. Residual selection repeats until full:
    /// take every expert's top-m list over neurons not yet in the residual; count, per neuron, how many lists hold it;
    /// for r = E down to 1, if some neurons have count r, add them in ascending index order (up to the remaining
    /// capacity) and end the pass.
    /// </summary>
    /// <param name="importance">One array of I scores per routed expert (cluster), E arrays.</param>
    /// <param name="residualExperts">How many shares of m the residual expert gets (v2: 1).</param>
    public static ExpertPartition GreedyWithResidual(IReadOnlyList<float[]> importance, int residualExperts = 1)
    {
        var neurons = CheckShape(importance);
        var experts = importance.Count;
        if (residualExperts < 1)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.ImportanceMalformed, "The residual expert needs at least one share of neurons.", key: "num_experts_residual", advice: "Use num_experts_residual ≥ 1 or the plain gradient split.");
        }

        var shares = ExpertSizes.Balanced(neurons, experts + residualExperts);
        var residualSize = shares.Take(residualExperts).Sum();
        var routedSizes = shares.Skip(residualExperts).ToArray();
        var orders = importance.Select(DescendingOrder).ToArray();
        var inResidual = new bool[neurons];
        var residual = new List<int>(residualSize);
        while (residual.Count < residualSize)
        {
            var counts = new int[neurons];
            for (var e = 0; e < experts; e++)
            {
                var taken = 0;
                foreach (var neuron in orders[e])
                {
                    if (taken == routedSizes[e])
                    {
                        break;
                    }

                    if (!inResidual[neuron])
                    {
                        counts[neuron]++;
                        taken++;
                    }
                }
            }

            for (var r = experts; r >= 1; r--)
            {
                var common = Enumerable.Range(0, neurons).Where(j => counts[j] == r).Take(residualSize - residual.Count).ToList();
                if (common.Count > 0)
                {
                    foreach (var neuron in common)
                    {
                        inResidual[neuron] = true;
                        residual.Add(neuron);
                    }

                    break;
                }
            }
        }

        var remaining = Enumerable.Range(0, neurons).Where(j => !inResidual[j]).ToArray();
        var sets = AssignGreedy(importance, remaining, routedSizes);
        residual.Sort();
        return new ExpertPartition(neurons, sets, residual.ToArray(), false);
    }

    /// <summary>
    /// v1 inner sharing: expert e takes its own <paramref name="expertSize"/> most important neurons, regardless of
    /// the other experts. Experts may overlap (declared) and unimportant neurons may be dropped.
    /// </summary>
    public static ExpertPartition Sharing(IReadOnlyList<float[]> importance, int expertSize)
    {
        var neurons = CheckShape(importance);
        if (expertSize < 1 || expertSize > neurons)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.ImportanceMalformed, $"The shared expert size must be between 1 and {neurons}, got {expertSize}.", key: "expert_size", advice: "Choose an expert size no larger than the MLP intermediate size.");
        }

        var sets = importance.Select(scores =>
        {
            var top = DescendingOrder(scores).Take(expertSize).ToArray();
            Array.Sort(top);
            return top;
        }).ToArray();
        return new ExpertPartition(neurons, sets, null, true);
    }

    private static int[][] AssignGreedy(IReadOnlyList<float[]> importance, int[] candidates, int[] sizes)
    {
        var experts = importance.Count;
        var allowed = new bool[importance[0].Length];
        foreach (var neuron in candidates)
        {
            allowed[neuron] = true;
        }

        var orders = importance.Select(scores => DescendingOrder(scores).Where(j => allowed[j]).ToArray()).ToArray();
        var pointers = new int[experts];
        var used = new bool[allowed.Length];
        var sets = sizes.Select(size => new List<int>(size)).ToArray();
        for (var step = 0; step < candidates.Length; step++)
        {
            var best = -1;
            var bestScore = float.NegativeInfinity;
            for (var e = 0; e < experts; e++)
            {
                if (sets[e].Count >= sizes[e])
                {
                    continue;
                }

                while (used[orders[e][pointers[e]]])
                {
                    pointers[e]++;
                }

                var score = importance[e][orders[e][pointers[e]]];
                if (best < 0 || score >= bestScore)
                {
                    best = e;
                    bestScore = score;
                }
            }

            var neuron = orders[best][pointers[best]++];
            used[neuron] = true;
            sets[best].Add(neuron);
        }

        return sets.Select(set =>
        {
            var sorted = set.ToArray();
            Array.Sort(sorted);
            return sorted;
        }).ToArray();
    }

    private static int[] DescendingOrder(float[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        // Stable: equal scores keep ascending neuron order.
        return order.OrderByDescending(j => scores[j]).ToArray();
    }

    private static int CheckShape(IReadOnlyList<float[]> importance)
    {
        if (importance.Count == 0 || importance.Any(scores => scores.Length != importance[0].Length || scores.Any(float.IsNaN)))
        {
            throw new LlamaMoeException(
                ConstructionErrorCodes.ImportanceMalformed,
                "The importance scores must hold one equally long, NaN-free array per expert.",
                key: "importance_scores",
                advice: "Recompute the importance with the calibration step for the same layer.");
        }

        return importance[0].Length;
    }
}
