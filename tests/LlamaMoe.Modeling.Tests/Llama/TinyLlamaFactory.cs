using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.Tests.Llama;

/// <summary>Tiny random Llama-3-style configs for tests.</summary>
internal static class TinyLlamaFactory
{
    public static LlamaConfig Llama3Style() => new LlamaConfig
    {
        VocabSize = 96,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 256,
        RopeTheta = 500000.0,
        RopeScaling = new RopeScaling(RopeScaling.Llama3, 8.0, 1.0, 4.0, 64),
        RmsNormEps = 1e-5,
        TieWordEmbeddings = false,
        BosTokenId = 0,
        EosTokenIds = [1, 2],
        TorchDtype = "bfloat16",
    }.Validate();
}
