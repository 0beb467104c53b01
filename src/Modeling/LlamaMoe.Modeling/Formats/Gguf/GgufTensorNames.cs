namespace LlamaMoe.Modeling.Formats.Gguf;

/// <summary>
/// The one table between llama.cpp's GGUF tensor names and Hugging Face LLaMA names, used by both the GGUF importer and
/// the GGUF exporters. Per-layer names are relative to <c>blk.{i}.</c> (GGUF) and <c>model.layers.{i}.</c> (Hugging Face),
/// and MoE names pair the GGUF name with the native expert projection (<c>w1</c> gate, <c>w3</c> up, <c>w2</c> down).
/// </summary>
public static class GgufTensorNames
{
    /// <summary>GGUF token embedding; Hugging Face <c>model.embed_tokens.weight</c>.</summary>
    public const string Embedding = "token_embd.weight";

    /// <summary>GGUF final norm; Hugging Face <c>model.norm.weight</c>.</summary>
    public const string FinalNorm = "output_norm.weight";

    /// <summary>GGUF output projection; Hugging Face <c>lm_head.weight</c>.</summary>
    public const string Output = "output.weight";

    /// <summary>GGUF attention query projection (rows in the interleaved RoPE layout).</summary>
    public const string AttentionQuery = "attn_q.weight";

    /// <summary>GGUF attention key projection (rows in the interleaved RoPE layout).</summary>
    public const string AttentionKey = "attn_k.weight";

    /// <summary>Norms and attention projections of a layer, in the order the exporter writes them.</summary>
    public static IReadOnlyList<(string Gguf, string Hf)> AttentionAndNorms { get; } =
    [
        ("attn_norm.weight", "input_layernorm.weight"), (AttentionQuery, "self_attn.q_proj.weight"), (AttentionKey, "self_attn.k_proj.weight"),
        ("attn_v.weight", "self_attn.v_proj.weight"), ("attn_output.weight", "self_attn.o_proj.weight"), ("ffn_norm.weight", "post_attention_layernorm.weight"),
    ];

    /// <summary>A dense layer's MLP projections (gate, up, down), in the order the exporter writes them.</summary>
    public static IReadOnlyList<(string Gguf, string Hf)> DenseMlp { get; } =
    [
        ("ffn_gate.weight", "mlp.gate_proj.weight"), ("ffn_up.weight", "mlp.up_proj.weight"), ("ffn_down.weight", "mlp.down_proj.weight"),
    ];

    /// <summary>GGUF MoE router (Hugging Face Mixtral <c>block_sparse_moe.gate.weight</c>, Qwen2-MoE <c>mlp.gate.weight</c>), torch (E, H).</summary>
    public const string Router = "ffn_gate_inp.weight";

    /// <summary>Routed experts stacked per projection, torch (E, m, H) for gate/up and (E, H, m) for down, with the native projection each stacks.</summary>
    public static IReadOnlyList<(string Gguf, string Native)> StackedExperts { get; } =
    [
        ("ffn_gate_exps.weight", "w1"), ("ffn_up_exps.weight", "w3"), ("ffn_down_exps.weight", "w2"),
    ];

    /// <summary>
    /// The shared expert of llama.cpp's <c>qwen2moe</c> (Hugging Face Qwen2-MoE <c>mlp.shared_expert.*</c>; our residual expert
    /// <c>mlp_residual.*</c>), with the native projection of each.
    /// </summary>
    public static IReadOnlyList<(string Gguf, string Native)> SharedExpert { get; } =
    [
        ("ffn_gate_shexp.weight", "w1"), ("ffn_up_shexp.weight", "w3"), ("ffn_down_shexp.weight", "w2"),
    ];

    /// <summary>The shared-expert gate of <c>qwen2moe</c>: a vector (H) whose sigmoid of the dot product with the normed input scales the shared expert (Hugging Face <c>mlp.shared_expert_gate.weight</c>, (1, H)).</summary>
    public const string SharedExpertGate = "ffn_gate_inp_shexp.weight";

    /// <summary>Every tensor of a dense layer: <see cref="AttentionAndNorms"/> then <see cref="DenseMlp"/>.</summary>
    public static IReadOnlyList<(string Gguf, string Hf)> DenseLayer { get; } = [.. AttentionAndNorms, .. DenseMlp];

    /// <summary><c>blk.{layer}.{name}</c>.</summary>
    public static string Block(int layer, string name) => $"blk.{layer}.{name}";
}
