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

    /// <summary>Computes the statistics of one layer from its logits <c>(N, E)</c>, selection <c>(N, K)</c> and token mask <c>(N)</c>.</summary>
    public static LayerRoutingStatistics Compute(int layer, Tensor logits, Tensor selected, Tensor? tokenMask)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var experts = logits.shape[1];
        var valid = tokenMask is null
            ? ones(logits.shape[0], 1, dtype: ScalarType.Float32, device: logits.device) // (N, 1)
            : tokenMask.to_type(ScalarType.Float32).unsqueeze(1); // (N, 1)
        var tokens = valid.sum().item<float>();
        var counts = (RouterLosses.SelectionCounts(selected, experts) * valid).sum(dim: 0L); // (E)
        var fractions = (counts / counts.sum().clamp_min(1.0)).to(CPU).data<float>().Select(f => (double)f).ToArray();
        var logProbabilities = logits.to_type(ScalarType.Float32).log_softmax(-1); // (N, E)
        var entropy = -(logProbabilities.exp() * logProbabilities).sum(-1, keepdim: true); // (N, 1)
        var meanEntropy = tokens > 0 ? (entropy * valid).sum().item<float>() / tokens : 0;
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
