namespace LlamaMoe.Modeling.Data;

/// <summary>
/// Mixes several encoded sources by weight into one deterministically shuffled list.
/// Source i contributes <c>round(total · w_i / Σw)</c> examples: a seeded random subset when it has more, whole
/// shuffled passes plus a subset when it has fewer (over-sampling). <c>total</c> defaults to the sum of the source sizes.
/// </summary>
public static class DataMix
{
    /// <summary>Builds the mixture.</summary>
    /// <param name="sources">Each source's examples and its weight (positive).</param>
    /// <param name="seed">The seed of all sampling and of the final shuffle.</param>
    /// <param name="totalExamples">The mixture size, or null for the sum of the source sizes.</param>
    public static IReadOnlyList<EncodedExample> Combine(IReadOnlyList<(IReadOnlyList<EncodedExample> Examples, double Weight)> sources, long seed, int? totalExamples = null)
    {
        if (sources.Count == 0)
        {
            throw DataErrors.BadOption("sources", "a stage needs at least one data source");
        }

        if (sources.Any(s => !(s.Weight > 0) || double.IsInfinity(s.Weight)))
        {
            throw DataErrors.BadOption("weight", "every data source weight must be a positive finite number");
        }

        if (totalExamples is <= 0)
        {
            throw DataErrors.BadOption("total_examples", "the mixture size must be positive");
        }

        var total = totalExamples ?? sources.Sum(s => s.Examples.Count);
        var weightSum = sources.Sum(s => s.Weight);
        var mixed = new List<EncodedExample>(total);
        for (var i = 0; i < sources.Count; i++)
        {
            var (examples, weight) = sources[i];
            var wanted = (int)Math.Round(total * weight / weightSum, MidpointRounding.AwayFromZero);
            mixed.AddRange(Sample(examples, wanted, new DeterministicRandom(DeterministicRandom.Derive(seed, 1000 + i))));
        }

        new DeterministicRandom(DeterministicRandom.Derive(seed, 999)).Shuffle(mixed);
        return mixed;
    }

    private static IEnumerable<EncodedExample> Sample(IReadOnlyList<EncodedExample> examples, int wanted, DeterministicRandom random)
    {
        while (wanted > 0 && examples.Count > 0)
        {
            var order = random.Permutation(examples.Count);
            var take = Math.Min(wanted, order.Length);
            for (var j = 0; j < take; j++)
            {
                yield return examples[order[j]];
            }

            wanted -= take;
        }
    }
}
