using LlamaMoe.Construction;
namespace LlamaMoe.Modeling.Construction;

/// <summary>The data-free splits: random (v1 Independent_Random) and sequential (v2 "vanilla").</summary>
public static class SimpleSplits
{
    /// <summary>
    /// v1 random split, made reproducible: a seeded shuffle of the neurons cut into consecutive groups of the
    /// requested sizes (balanced by default). Non-overlapping, covers every neuron.
    /// </summary>
    /// <param name="neurons">Intermediate size I.</param>
    /// <param name="experts">Number of experts E.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="sizes">Explicit per-expert sizes summing to I, or null for balanced sizes.</param>
    public static ExpertPartition Random(int neurons, int experts, long seed, IReadOnlyList<int>? sizes = null)
    {
        var resolved = ExpertSizes.Resolve(neurons, experts, sizes);
        var order = Enumerable.Range(0, neurons).ToArray();
        new SeededRandom(seed).Shuffle(order);
        return Cut(neurons, order, resolved);
    }

    /// <summary>v2 sequential split: contiguous blocks of the requested sizes (balanced by default), in neuron order.</summary>
    public static ExpertPartition Sequential(int neurons, int experts, IReadOnlyList<int>? sizes = null)
    {
        var resolved = ExpertSizes.Resolve(neurons, experts, sizes);
        return Cut(neurons, Enumerable.Range(0, neurons).ToArray(), resolved);
    }

    private static ExpertPartition Cut(int neurons, int[] order, int[] sizes)
    {
        var sets = new int[sizes.Length][];
        var start = 0;
        for (var e = 0; e < sizes.Length; e++)
        {
            sets[e] = order.AsSpan(start, sizes[e]).ToArray();
            Array.Sort(sets[e]);
            start += sizes[e];
        }

        return new ExpertPartition(neurons, sets, null, false);
    }
}
