using System.Security.Cryptography;
using System.Text;

namespace LlamaMoe.Pipeline.Services;

/// <summary>The pipeline seed and stable derived seeds.</summary>
public sealed class SeedSource(int seed) : ISeedSource
{
    /// <inheritdoc />
    public int Seed { get; } = seed;

    /// <inheritdoc />
    public int Derive(string purpose)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{Seed}:{purpose}"));
        return BitConverter.ToInt32(hash, 0) & int.MaxValue;
    }
}
