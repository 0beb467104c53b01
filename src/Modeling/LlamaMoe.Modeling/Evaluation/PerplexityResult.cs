namespace LlamaMoe.Modeling.Evaluation;

/// <summary>Mean next-token negative log-likelihood over a set of sequences.</summary>
/// <param name="Sequences">Number of sequences scored.</param>
/// <param name="Tokens">Number of predicted tokens.</param>
/// <param name="TotalNll">Sum of token NLLs (nats).</param>
public sealed record PerplexityResult(int Sequences, long Tokens, double TotalNll)
{
    /// <summary>Mean NLL in nats per token.</summary>
    public double MeanNll => Tokens == 0 ? double.NaN : TotalNll / Tokens;

    /// <summary><c>exp(mean NLL)</c>.</summary>
    public double Perplexity => Math.Exp(MeanNll);
}
