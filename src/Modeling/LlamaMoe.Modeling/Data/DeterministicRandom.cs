namespace LlamaMoe.Modeling.Data;

/// <summary>
/// SplitMix64: a small, fully specified pseudo-random generator whose sequence is the same on every platform and
/// .NET version, with a state that fits in one <see cref="ulong"/> (saved in checkpoints).
/// </summary>
public sealed class DeterministicRandom
{
    /// <summary>Creates a generator from a seed.</summary>
    public DeterministicRandom(ulong seed) => State = seed;

    /// <summary>The internal state; assigning it restores the sequence exactly.</summary>
    public ulong State { get; set; }

    /// <summary>Derives an independent seed from a base seed and a stream number (for example the epoch).</summary>
    public static ulong Derive(long seed, long stream)
    {
        var mixer = new DeterministicRandom(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)stream));
        mixer.NextUInt64();
        return mixer.NextUInt64();
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        unchecked
        {
            State += 0x9E3779B97F4A7C15UL;
            var z = State;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMax"/>) without modulo bias.</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        var bound = (ulong)exclusiveMax;
        var limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong value;
        do
        {
            value = NextUInt64();
        }
        while (value >= limit);

        return (int)(value % bound);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher-Yates).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A random permutation of 0..<paramref name="count"/>-1.</summary>
    public int[] Permutation(int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        Shuffle(order);
        return order;
    }
}
