using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Router auxiliary losses of one layer. Inputs: router logits <c>(N, E)</c> (in the autograd graph), the selected
/// expert indices <c>(N, K)</c>, and an optional bool token mask <c>(N)</c> (false on padding, which is excluded).
/// All arithmetic is float32.
/// </summary>
public static class RouterLosses
{
    /// <summary>
    /// Switch/Mixtral load balancing: <c>E · Σ_e f_e · P_e</c>, where <c>f_e</c> is the fraction of routing slots
    /// (token × k) assigned to expert e and <c>P_e</c> the mean full-softmax probability of e over tokens. The gradient
    /// reaches the router through <c>P</c>; the loss is 1 when routing is perfectly balanced.
    /// </summary>
    public static Tensor SwitchLoadBalancing(Tensor logits, Tensor selected, Tensor? tokenMask = null)
    {
        using var scope = NewDisposeScope();
        var experts = logits.shape[1];
        var (valid, count) = Weights(logits, tokenMask); // (N, 1), scalar
        var probabilities = logits.to_type(ScalarType.Float32).softmax(-1); // (N, E)
        var meanProbability = (probabilities * valid).sum(dim: 0L) / count; // (E)
        var slots = SelectionCounts(selected, experts) * valid; // (N, E)
        var fraction = slots.sum(dim: 0L) / (count * selected.shape[1]); // (E)
        return (experts * (fraction * meanProbability).sum()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// LLaMA-MoE v1 balance loss: <c>CV²(importance) + CV²(load)</c> with <c>importance_e = Σ_tokens score_e</c>
    /// (score = softmax over the k selected logits, 0 for unselected experts), <c>load_e</c> = the number of selections
    /// (the noise-free count; it has no gradient), and <c>CV²(v) = var(v) / (mean(v)² + 1e-10)</c> (unbiased variance).
    /// </summary>
    public static Tensor CoefficientOfVariationSquared(Tensor logits, Tensor selected, Tensor? tokenMask = null)
    {
        using var scope = NewDisposeScope();
        var experts = logits.shape[1];
        var (valid, _) = Weights(logits, tokenMask); // (N, 1)
        var logits32 = logits.to_type(ScalarType.Float32); // (N, E)
        var topScores = logits32.gather(1, selected).softmax(-1); // (N, K)
        var scores = zeros_like(logits32).scatter(1, selected, topScores); // (N, E)
        var importance = (scores * valid).sum(dim: 0L); // (E)
        var load = (SelectionCounts(selected, experts) * valid).sum(dim: 0L); // (E)
        return (CvSquared(importance) + CvSquared(load)).MoveToOuterDisposeScope();
    }

    /// <summary>Router z-loss (ST-MoE): mean over tokens of <c>logsumexp(logits)²</c>.</summary>
    public static Tensor ZLoss(Tensor logits, Tensor? tokenMask = null)
    {
        using var scope = NewDisposeScope();
        var (valid, count) = Weights(logits, tokenMask); // (N, 1), scalar
        var lse = logits.to_type(ScalarType.Float32).logsumexp(-1, keepdim: true); // (N, 1)
        return ((lse * lse * valid).sum() / count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The formula LLaMA-MoE v2 ships (transformers 4.36 Mixtral): softmax over the top-k <em>logits</em>, then
    /// <c>mean(tokens_per_expert ⊗ mean_k(weights)) · E²</c>. Kept for parity tests: it always equals E and has no
    /// gradient (spec 3.3, transformers issue 28205). Padding is not excluded, as in the original.
    /// </summary>
    public static Tensor MixtralV2Parity(Tensor logits, int topK)
    {
        using var scope = NewDisposeScope();
        var experts = logits.shape[1];
        var (weights, chosen) = logits.to_type(ScalarType.Float32).topk(topK, dim: -1); // (N, K) each
        var routingWeights = weights.softmax(-1); // (N, K)
        var expertMask = nn.functional.one_hot(chosen, experts).max(1).values.to_type(ScalarType.Float32); // (N, E)
        var tokensPerExpert = expertMask.mean([0]); // (E)
        var routerProbability = routingWeights.mean([-1]); // (N)
        return ((tokensPerExpert * routerProbability.unsqueeze(-1)).mean() * (experts * experts)).MoveToOuterDisposeScope();
    }

    /// <summary>Per token, how many of its k slots chose each expert: float32 <c>(N, E)</c>.</summary>
    public static Tensor SelectionCounts(Tensor selected, long experts)
    {
        using var scope = NewDisposeScope();
        return nn.functional.one_hot(selected, experts).sum(dim: 1L).to_type(ScalarType.Float32).MoveToOuterDisposeScope(); // (N, E)
    }

    private static Tensor CvSquared(Tensor values)
    {
        var mean = values.mean();
        return values.var() / (mean * mean + 1e-10);
    }

    private static (Tensor Valid, Tensor Count) Weights(Tensor logits, Tensor? tokenMask)
    {
        var valid = tokenMask is null
            ? ones(logits.shape[0], 1, dtype: ScalarType.Float32, device: logits.device) // (N, 1)
            : tokenMask.to_type(ScalarType.Float32).unsqueeze(1); // (N, 1)
        return (valid, valid.sum().clamp_min(1.0));
    }
}
