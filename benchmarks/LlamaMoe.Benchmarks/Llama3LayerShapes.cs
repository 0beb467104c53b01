using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// The Llama-3-8B layer shapes the conversion and export benchmarks share: H 4096, I 14336, GQA 32/8, bf16, a small
/// vocabulary, and 4 layers (2 with <c>--quick</c>).
/// </summary>
public static class Llama3LayerShapes
{
    /// <summary>The model configuration for a benchmark run.</summary>
    public static LlamaConfig Config(bool quick) => new LlamaConfig
    {
        VocabSize = 512, HiddenSize = 4096, IntermediateSize = 14336, NumHiddenLayers = quick ? 2 : 4, NumAttentionHeads = 32,
        NumKeyValueHeads = 8, MaxPositionEmbeddings = 8192, RopeTheta = 500000, RmsNormEps = 1e-5, BosTokenId = 0, EosTokenIds = [1], TorchDtype = "bfloat16",
    }.Validate();
}
