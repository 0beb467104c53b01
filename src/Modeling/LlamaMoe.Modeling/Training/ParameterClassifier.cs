namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Assigns parameter names (HF LLaMA / Mixtral naming and the project's MoE naming) to a <see cref="ParameterGroup"/>,
/// and decides weight decay: norms, biases and other one-dimensional tensors get none.
/// </summary>
public static class ParameterClassifier
{
    /// <summary>The group of a parameter name. Rules are checked in order: norm, router, embeddings, attention, experts.</summary>
    public static ParameterGroup Classify(string name)
    {
        var n = name.ToLowerInvariant();
        var segments = n.Split('.');
        if (segments.Any(s => s.Contains("norm", StringComparison.Ordinal)))
        {
            return ParameterGroup.Norms;
        }

        if (segments.Any(s => s is "gate" or "router" or "attn_gate" || s.EndsWith("_router", StringComparison.Ordinal)))
        {
            return ParameterGroup.Router;
        }

        if (segments.Any(s => s is "embed_tokens" or "lm_head" or "wte" or "output" or "tok_embeddings" or "embedding" or "embeddings"))
        {
            return ParameterGroup.Embeddings;
        }

        if (segments.Any(s => s is "self_attn" or "attention" or "attn"))
        {
            return ParameterGroup.Attention;
        }

        if (segments.Any(s => s is "mlp" or "block_sparse_moe" or "experts" or "feed_forward" or "mlp_residual" or "moe"))
        {
            return ParameterGroup.Experts;
        }

        return ParameterGroup.Other;
    }

    /// <summary>Whether weight decay applies: not to norms, biases or any tensor of rank below 2.</summary>
    public static bool DecaysWeight(string name, long rank) =>
        rank >= 2 && Classify(name) != ParameterGroup.Norms && !name.EndsWith(".bias", StringComparison.Ordinal) && name != "bias";
}
