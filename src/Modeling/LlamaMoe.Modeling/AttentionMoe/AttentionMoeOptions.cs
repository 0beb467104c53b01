using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// Attention-MoE configuration (LLaMA-MoE v2, spec §2): the <c>attention_moe</c> object of a native config.json
/// (<see cref="AttentionMoeOptionsJson"/>). Every listed layer's self-attention is split into
/// <see cref="NumExperts"/> = <c>kv_heads · split</c> experts, one per GQA group (or per 1/split of a group),
/// routed top-<see cref="TopK"/> per token.
/// </summary>
/// <param name="NumExperts">Attention experts n per layer; must equal <c>num_key_value_heads · split</c>.</param>
/// <param name="TopK">Experts per token, 1 ≤ k ≤ n (v2 explored 7 of 8).</param>
/// <param name="ScaleFactor">Multiplies every selected expert's output (v2 <c>scale_factor_attn</c>).</param>
/// <param name="Split">Experts per KV group: each expert gets <c>G/split</c> query heads and its own copy of the group's K/V head.</param>
/// <param name="Layers">Indices of the layers with attention-MoE (others keep dense attention), ascending.</param>
/// <param name="Weights">How routing weights are computed (v2: softmax over all, top-k, renormalised).</param>
public sealed record AttentionMoeOptions(
    int NumExperts,
    int TopK,
    double ScaleFactor,
    int Split,
    IReadOnlyList<int> Layers,
    RoutingWeights Weights = RoutingWeights.SoftmaxRenormalized)
{
    /// <summary>Options for every layer of <paramref name="config"/>, with <c>n = kv_heads · split</c> experts.</summary>
    public static AttentionMoeOptions ForAllLayers(LlamaConfig config, int topK, int split = 1, double scaleFactor = 1.0) =>
        new AttentionMoeOptions(config.NumKeyValueHeads * split, topK, scaleFactor, split, Enumerable.Range(0, config.NumHiddenLayers).ToArray())
            .Validate(config);

    /// <summary>Whether layer <paramref name="index"/> uses attention-MoE.</summary>
    public bool AppliesTo(int index) => Layers.Contains(index);

    /// <summary>Value equality, comparing <see cref="Layers"/> element-wise.</summary>
    public bool Equals(AttentionMoeOptions? other) =>
        other is not null && NumExperts == other.NumExperts && TopK == other.TopK && ScaleFactor.Equals(other.ScaleFactor)
        && Split == other.Split && Weights == other.Weights && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(NumExperts, TopK, ScaleFactor, Split, Weights, Layers.Count);

    /// <summary>
    /// Checks the ranges (LMOE2301) and, when <paramref name="config"/> is given, the fit to the dense model (LMOE2302).
    /// Returns this instance.
    /// </summary>
    /// <param name="config">The dense model, or null to check ranges only.</param>
    /// <param name="filePath">The file the options came from, for the error location.</param>
    public AttentionMoeOptions Validate(LlamaConfig? config = null, string? filePath = null)
    {
        LlamaMoeException Bad(string key, string message, string advice) =>
            AttentionMoeErrors.Create(AttentionMoeErrors.InvalidOptions, message, "attention_moe." + key, advice, filePath);

        if (NumExperts < 1)
        {
            throw Bad("num_experts", $"attention_moe.num_experts must be at least 1, got {NumExperts}.", "Use num_key_value_heads · split (8 for Llama-3-8B).");
        }

        if (TopK < 1 || TopK > NumExperts)
        {
            throw Bad("top_k", $"attention_moe.top_k must be between 1 and num_experts ({NumExperts}), got {TopK}.", "v2 used top-7 of 8.");
        }

        if (!double.IsFinite(ScaleFactor) || ScaleFactor <= 0)
        {
            throw Bad("scale_factor", $"attention_moe.scale_factor must be a positive finite number, got {ScaleFactor}.", "Use 1.0, or n/k to keep the output magnitude.");
        }

        if (Split < 1)
        {
            throw Bad("split", $"attention_moe.split must be at least 1, got {Split}.", "Use 1 (one expert per GQA group), 2 or 4.");
        }

        if (Layers.Count == 0 || Layers.Any(layer => layer < 0) || Layers.Zip(Layers.Skip(1)).Any(pair => pair.First >= pair.Second))
        {
            throw Bad("layers", "attention_moe.layers must be a non-empty, strictly ascending list of layer indices ≥ 0.", "List each attention-MoE layer once, in order.");
        }

        if (!Enum.IsDefined(Weights))
        {
            throw Bad("weights", $"Unknown routing-weight mode {Weights}.", "Use softmax_renormalized.");
        }

        return config is null ? this : CheckFit(config, filePath);
    }

    private AttentionMoeOptions CheckFit(LlamaConfig config, string? filePath)
    {
        LlamaMoeException Misfit(string key, string message, string advice) =>
            AttentionMoeErrors.Create(AttentionMoeErrors.DoesNotFitModel, message, "attention_moe." + key, advice, filePath);

        var groupSize = config.NumAttentionHeads / config.NumKeyValueHeads;
        if (groupSize % Split != 0)
        {
            throw Misfit("split", $"attention_moe.split {Split} does not divide the {groupSize} query heads of each KV group.", $"Use a divisor of {groupSize}.");
        }

        if (NumExperts != config.NumKeyValueHeads * Split)
        {
            throw Misfit(
                "num_experts",
                $"attention_moe.num_experts {NumExperts} must equal num_key_value_heads ({config.NumKeyValueHeads}) × split ({Split}).",
                $"Use num_experts {config.NumKeyValueHeads * Split}, or split {(NumExperts % config.NumKeyValueHeads == 0 ? NumExperts / config.NumKeyValueHeads : 1)}.");
        }

        if (Layers[^1] >= config.NumHiddenLayers)
        {
            throw Misfit("layers", $"attention_moe.layers names layer {Layers[^1]} but the model has {config.NumHiddenLayers} layers.", "Use layer indices below num_hidden_layers.");
        }

        return this;
    }
}
