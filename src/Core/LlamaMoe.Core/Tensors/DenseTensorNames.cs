namespace LlamaMoe.Tensors;

/// <summary>
/// The one place that spells a dense Hugging Face LLaMA checkpoint's tensor names: embedding, final norm, LM head and
/// each decoder layer's attention and MLP projections and norms. <see cref="MoeTensorNames"/> adds the MoE layers' names.
/// </summary>
public static class DenseTensorNames
{
    /// <summary><c>model.embed_tokens.weight</c>.</summary>
    public const string Embedding = "model.embed_tokens.weight";

    /// <summary><c>model.norm.weight</c>.</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary><c>lm_head.weight</c> (absent when the embeddings are tied).</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The gate projection of a SwiGLU MLP, <c>gate_proj</c> <c>(I, H)</c>.</summary>
    public const string GateProjection = "gate_proj";

    /// <summary>The up projection of a SwiGLU MLP, <c>up_proj</c> <c>(I, H)</c>.</summary>
    public const string UpProjection = "up_proj";

    /// <summary>The down projection of a SwiGLU MLP, <c>down_proj</c> <c>(H, I)</c>.</summary>
    public const string DownProjection = "down_proj";

    private const string LayersPrefix = "model.layers.";

    /// <summary>A dense layer's tensors relative to <see cref="Layer"/>, in Hugging Face's state-dict order.</summary>
    public static IReadOnlyList<string> LayerTensors { get; } =
    [
        "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
        $"mlp.{GateProjection}.weight", $"mlp.{UpProjection}.weight", $"mlp.{DownProjection}.weight", "input_layernorm.weight", "post_attention_layernorm.weight",
    ];

    /// <summary><c>model.layers.{layer}</c>.</summary>
    public static string Layer(int layer) => $"{LayersPrefix}{layer}";

    /// <summary><c>model.layers.{layer}.{relative}</c>, for a name relative to the layer such as <c>self_attn.q_proj.weight</c>.</summary>
    public static string InLayer(int layer, string relative) => $"{Layer(layer)}.{relative}";

    /// <summary>A dense MLP projection: <c>model.layers.{layer}.mlp.{projection}.weight</c> (gate_proj, up_proj, down_proj).</summary>
    public static string Mlp(int layer, string projection) => $"{Layer(layer)}.mlp.{projection}.weight";

    /// <summary>Layer index of a <c>model.layers.{i}.</c> name, or -1.</summary>
    public static int LayerOf(string name)
    {
        if (!name.StartsWith(LayersPrefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var end = name.IndexOf('.', LayersPrefix.Length);
        return end > 0 && int.TryParse(name.AsSpan(LayersPrefix.Length, end - LayersPrefix.Length), out var i) ? i : -1;
    }
}
