namespace LlamaMoe.Modeling.Checkpoints;

/// <summary>
/// The one place that spells checkpoint tensor names: the dense Hugging Face LLaMA names (embedding, norms, attention and
/// MLP projections) and the native names of MoE layers.
/// </summary>
public static class MoeTensorNames
{
    /// <summary><c>model.embed_tokens.weight</c>.</summary>
    public const string Embedding = "model.embed_tokens.weight";

    /// <summary><c>model.norm.weight</c>.</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary><c>lm_head.weight</c> (absent when the embeddings are tied).</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>A dense layer's tensors relative to <see cref="Layer"/>, in Hugging Face's state-dict order.</summary>
    public static IReadOnlyList<string> DenseLayerTensors { get; } =
    [
        "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight",
    ];

    /// <summary><c>model.layers.{layer}</c>.</summary>
    public static string Layer(int layer) => $"model.layers.{layer}";

    /// <summary><c>model.layers.{layer}.{relative}</c>, for a name relative to the layer such as <c>self_attn.q_proj.weight</c>.</summary>
    public static string InLayer(int layer, string relative) => $"{Layer(layer)}.{relative}";

    /// <summary>A dense MLP projection: <c>model.layers.{layer}.mlp.{projection}.weight</c> (gate_proj, up_proj, down_proj).</summary>
    public static string DenseMlp(int layer, string projection) => $"{Layer(layer)}.mlp.{projection}.weight";

    /// <summary><c>model.layers.{layer}.block_sparse_moe</c>.</summary>
    public static string Block(int layer) => $"{Layer(layer)}.block_sparse_moe";

    /// <summary>The router weight (E, H).</summary>
    public static string Router(int layer) => $"{Block(layer)}.gate.weight";

    /// <summary>Expert <paramref name="expert"/>'s <c>w1</c>/<c>w2</c>/<c>w3</c> weight.</summary>
    public static string Expert(int layer, int expert, string w) => $"{Block(layer)}.experts.{expert}.{w}.weight";

    /// <summary>The residual expert's <c>w1</c>/<c>w2</c>/<c>w3</c> weight (native: inside the block).</summary>
    public static string Residual(int layer, string w) => $"{Block(layer)}.mlp_residual.{w}.weight";

    /// <summary>Layer index of a <c>model.layers.{i}.</c> name, or -1.</summary>
    public static int LayerOf(string name)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var end = name.IndexOf('.', prefix.Length);
        return end > 0 && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), out var i) ? i : -1;
    }
}
