using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>Routing statistics of one MoE layer over a set of tokens.</summary>
/// <param name="Layer">The 0-based layer index.</param>
/// <param name="LoadFractions">Per expert, the fraction of routing slots (token × k) it received; they sum to 1.</param>
/// <param name="TokenEntropy">Mean over tokens of the entropy (nats) of the full router softmax.</param>
/// <param name="Tokens">The number of tokens counted.</param>
public sealed record LayerRoutingStatistics(int Layer, double[] LoadFractions, double TokenEntropy, long Tokens)
{
    /// <summary>The largest load fraction (1/E when balanced).</summary>
    public double MaxLoadFraction => LoadFractions.Length == 0 ? 0 : LoadFractions.Max();

    /// <summary>The coefficient of variation of the load fractions (0 when balanced; population standard deviation).</summary>
    public double LoadCoefficientOfVariation
    {
        get
        {
            if (LoadFractions.Length == 0)
            {
                return 0;
            }

            var mean = LoadFractions.Average();
            var variance = LoadFractions.Select(f => (f - mean) * (f - mean)).Average();
            return mean > 0 ? Math.Sqrt(variance) / mean : 0;
        }
    }

    /// <summary>The entropy (nats) of the load distribution; ln E when balanced.</summary>
    public double LoadEntropy => -LoadFractions.Where(f => f > 0).Sum(f => f * Math.Log(f));

    /// <summary>Computes the statistics of one routed batch, reading them back to the host at once.</summary>
    /// <param name="layer">Layer index.</param>
    /// <param name="logits">Router logits <c>(N, E)</c>.</param>
    /// <param name="selected">Selected expert ids <c>(N, K)</c>.</param>
    /// <param name="tokenMask">Optional <c>(N)</c> mask of real tokens (padding excluded).</param>
    public static LayerRoutingStatistics Compute(int layer, Tensor logits, Tensor selected, Tensor? tokenMask)
    {
        using var row = ComputeOnDevice(logits, selected, tokenMask);
        return FromRow(layer, row.cpu().data<float>().ToArray());
    }

    /// <summary>
    /// The statistics of one routed batch as a float32 row <c>(E + 2)</c> on the logits' device:
    /// <c>[tokens, Σ token entropy, selections per expert…]</c>. Nothing is read back, so a trainer can collect the rows
    /// of every layer and read them with its other metrics in one copy (<see cref="FromRow"/>).
    /// </summary>
    public static Tensor ComputeOnDevice(Tensor logits, Tensor selected, Tensor? tokenMask)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var experts = logits.shape[1];
        var valid = tokenMask is null
            ? ones(logits.shape[0], 1, dtype: ScalarType.Float32, device: logits.device) // (N, 1)
            : tokenMask.to_type(ScalarType.Float32).unsqueeze(1); // (N, 1)
        var counts = (RouterLosses.SelectionCounts(selected, experts) * valid).sum(dim: 0L); // (E)
        var logProbabilities = logits.detach().to_type(ScalarType.Float32).log_softmax(-1); // (N, E)
        var entropy = -(logProbabilities.exp() * logProbabilities).sum(-1, keepdim: true); // (N, 1)
        return cat([valid.sum().reshape(1), (entropy * valid).sum().reshape(1), counts], 0).MoveToOuterDisposeScope(); // (E + 2)
    }

    /// <summary>Builds the statistics from a row written by <see cref="ComputeOnDevice"/>.</summary>
    public static LayerRoutingStatistics FromRow(int layer, ReadOnlySpan<float> row)
    {
        var tokens = row[0];
        var counts = row[2..];
        var selections = 0.0;
        foreach (var count in counts)
        {
            selections += count;
        }

        var fractions = new double[counts.Length];
        for (var e = 0; e < counts.Length; e++)
        {
            fractions[e] = (float)(counts[e] / Math.Max(1.0f, (float)selections));
        }

        var meanEntropy = tokens > 0 ? row[1] / tokens : 0;
        return new LayerRoutingStatistics(layer, fractions, meanEntropy, (long)tokens);
    }

    /// <summary>Merges statistics of the same layer over several batches (token-weighted).</summary>
    public static LayerRoutingStatistics Merge(IReadOnlyList<LayerRoutingStatistics> parts)
    {
        var tokens = parts.Sum(p => p.Tokens);
        var experts = parts[0].LoadFractions.Length;
        var fractions = new double[experts];
        foreach (var part in parts)
        {
            for (var e = 0; e < experts; e++)
            {
                fractions[e] += part.LoadFractions[e] * part.Tokens / Math.Max(1, tokens);
            }
        }

        var entropy = parts.Sum(p => p.TokenEntropy * p.Tokens) / Math.Max(1, tokens);
        return new LayerRoutingStatistics(parts[0].Layer, fractions, entropy, tokens);
    }
}
