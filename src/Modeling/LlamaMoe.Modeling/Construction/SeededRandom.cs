namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// SplitMix64: a tiny deterministic generator whose sequence depends only on the seed (never on the .NET version),
/// so every seeded split reproduces bit for bit.
/// </summary>
internal sealed class SeededRandom
{
    private ulong state;

    public SeededRandom(long seed)
    {
        state = unchecked((ulong)seed) ^ 0x9E3779B97F4A7C15UL;
    }

    public ulong NextUInt64()
    {
        unchecked
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound) => (int)(NextUInt64() % (ulong)bound);

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(T[] items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
