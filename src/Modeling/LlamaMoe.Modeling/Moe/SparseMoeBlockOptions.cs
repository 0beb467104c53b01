namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// Shape and routing of one <see cref="SparseMoeBlock"/>. Immutable; validated by <see cref="Validate"/>.
/// </summary>
/// <param name="HiddenSize">Model width H.</param>
/// <param name="ExpertSizes">Neurons m_j of every routed expert (unequal sizes are allowed); its length is E.</param>
/// <param name="TopK">Experts selected per token, 1 ≤ k ≤ E.</param>
/// <param name="ScaleFactor">Multiplies every routed expert output (v1 <c>score_scale_factor</c>, v2 <c>scale_factor</c>); this layer's value.</param>
/// <param name="ResidualSize">Neurons of the always-on residual (shared) expert added with weight 1, or null for none.</param>
/// <param name="Router">The router network.</param>
/// <param name="Weights">How routing weights are computed.</param>
/// <param name="NoisyGate">v1 noisy top-k: in training add <c>N(0,1)·(softplus(W_noise x) + ε)</c> to the logits.</param>
/// <param name="NoiseEpsilon">ε of the noisy gate (v1 <c>gate_noise_epsilon</c>).</param>
/// <param name="MlpBias">Give w1, w3 and w2 of every expert a bias (<c>mlp_bias</c> of the dense model).</param>
/// <param name="OutputBias">Give w2 a bias even without <paramref name="MlpBias"/> (v2 <c>add_rescale_bias</c>).</param>
public sealed record SparseMoeBlockOptions(
    int HiddenSize,
    IReadOnlyList<int> ExpertSizes,
    int TopK,
    double ScaleFactor = 1.0,
    int? ResidualSize = null,
    RouterNetwork Router = RouterNetwork.Linear,
    RoutingWeights Weights = RoutingWeights.SoftmaxRenormalized,
    bool NoisyGate = false,
    double NoiseEpsilon = 0.01,
    bool MlpBias = false,
    bool OutputBias = false)
{
    /// <summary>Number of routed experts E.</summary>
    public int ExpertCount => ExpertSizes.Count;

    /// <summary>E experts of <paramref name="expertSize"/> neurons each.</summary>
    public static SparseMoeBlockOptions Uniform(int hiddenSize, int experts, int expertSize, int topK, double scaleFactor = 1.0) =>
        new(hiddenSize, Enumerable.Repeat(expertSize, experts).ToArray(), topK, scaleFactor);

    /// <summary>Throws <see cref="LlamaMoeException"/> (LMOE2101) when a value is out of range.</summary>
    public void Validate()
    {
        static LlamaMoeException Bad(string key, string message, string advice) =>
            new(ConstructionErrorCodes.MoeBlockOptionsOutOfRange, message, key: key, advice: advice);

        if (HiddenSize <= 0)
        {
            throw Bad("hidden_size", $"The MoE hidden size must be positive, got {HiddenSize}.", "Use the dense model's hidden_size.");
        }

        if (ExpertSizes.Count == 0 || ExpertSizes.Any(size => size <= 0))
        {
            throw Bad("expert_sizes", "Every MoE block needs at least one expert and every expert at least one neuron.", "Check num_experts and the expert partition.");
        }

        if (TopK < 1 || TopK > ExpertSizes.Count)
        {
            throw Bad("top_k", $"top_k must be between 1 and the number of experts ({ExpertSizes.Count}), got {TopK}.", "Lower top_k or add experts.");
        }

        if (ResidualSize is <= 0)
        {
            throw Bad("residual_size", $"The residual expert size must be positive, got {ResidualSize}.", "Omit the residual expert or give it neurons.");
        }

        if (!double.IsFinite(ScaleFactor) || !double.IsFinite(NoiseEpsilon) || NoiseEpsilon < 0)
        {
            throw Bad("scale_factor", "scale_factor and the gate noise epsilon must be finite (epsilon ≥ 0).", "Use E/k (v1) or 4.0/1.0 (v2) for the scale factor.");
        }
    }
}
