using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>
/// The model and batch shapes of the side-by-side benchmark: a dense LLaMA and the MoE made from it by splitting every
/// MLP into <see cref="Experts"/> experts of <see cref="ExpertSize"/> with top-<see cref="TopK"/> routing. The Python
/// baseline (benchmarks/hf_baseline.py) builds LlamaForCausalLM and MixtralForCausalLM of the same shapes.
/// </summary>
/// <param name="Name">The shape name used on the command line (<c>full</c> or <c>small</c>).</param>
/// <param name="Vocabulary">Vocabulary size V.</param>
/// <param name="Hidden">Hidden size D.</param>
/// <param name="Layers">Decoder layers L.</param>
/// <param name="Heads">Attention heads (head dim D / heads; as many key/value heads).</param>
/// <param name="Intermediate">The dense MLP width I.</param>
/// <param name="Sequence">Tokens per row T.</param>
/// <param name="Batch">Rows per step B.</param>
/// <param name="Experts">Routed experts E per layer.</param>
/// <param name="TopK">Experts per token k.</param>
/// <param name="MatmulSize">n of the n³ matmuls that measure the device's peak.</param>
public sealed record TrainingShape(
    string Name, int Vocabulary, int Hidden, int Layers, int Heads, int Intermediate, int Sequence, int Batch, int Experts, int TopK, int MatmulSize)
{
    /// <summary>The shapes of docs gpu-notes.md: V 320, D 1024, 8 layers, 16 heads, I 4096, T 1024, B 16; 8 experts of 512, top-2.</summary>
    public static TrainingShape Full { get; } = new("full", 320, 1024, 8, 16, 4096, 1024, 16, 8, 2, 8192);

    /// <summary>A tiny shape that runs the same code path on a CPU in seconds (smoke test).</summary>
    public static TrainingShape Small { get; } = new("small", 320, 128, 2, 4, 512, 128, 4, 8, 2, 1024);

    /// <summary>The expert width I / E.</summary>
    public int ExpertSize => Intermediate / Experts;

    /// <summary>Tokens per optimizer step (B·T, all of them real: no padding).</summary>
    public long TokensPerStep => (long)Batch * Sequence;

    /// <summary>
    /// Attention-score FLOPs per token in forward and backward, <c>12 · L · D · T</c> (QKᵀ and AV, 2 FLOPs per
    /// multiply-add, ×3 for backward; no discount for the causal mask, as in PaLM's MFU).
    /// </summary>
    public double AttentionFlopsPerToken => 12.0 * Layers * Hidden * Sequence;

    /// <summary>The shape by its command-line name, or null.</summary>
    public static TrainingShape? Parse(string name) => name switch
    {
        "full" => Full,
        "small" => Small,
        _ => null,
    };

    /// <summary>
    /// Model FLOPs of one token in training (forward and backward): <c>6 · N + 12 · L · D · T</c>, where N is
    /// <paramref name="activeNonEmbedding"/> (the parameters a token uses, without the embedding table; routed experts
    /// count k/E; the LM head counts).
    /// </summary>
    public double TrainingFlopsPerToken(long activeNonEmbedding) => (6.0 * activeNonEmbedding) + AttentionFlopsPerToken;

    /// <summary>The dense model's config (untied head, float32 weights).</summary>
    public LlamaConfig DenseConfig() => new LlamaConfig
    {
        VocabSize = Vocabulary, HiddenSize = Hidden, IntermediateSize = Intermediate, NumHiddenLayers = Layers, NumAttentionHeads = Heads,
        NumKeyValueHeads = Heads, MaxPositionEmbeddings = Math.Max(Sequence, 2048), RopeTheta = 10000, RmsNormEps = 1e-5,
        TieWordEmbeddings = false, BosTokenId = 1, EosTokenIds = [2], TorchDtype = "float32",
    }.Validate();

    /// <summary>A one-line description for report headers.</summary>
    public string Describe() =>
        $"{Name}: V={Vocabulary}, D={Hidden}, L={Layers}, heads={Heads} (kv {Heads}, head dim {Hidden / Heads}), I={Intermediate}, " +
        $"T={Sequence}, B={Batch}; MoE {Experts} experts of {ExpertSize}, top-{TopK}";
}
