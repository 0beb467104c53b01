using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>Tiny float32 GQA models and conversions for the attention-MoE tests.</summary>
internal static class AttentionMoeFixtures
{
    /// <summary>Llama-3 style: 8 query heads, 2 KV heads (G = 4), head_dim 8, llama3 RoPE scaling.</summary>
    public static LlamaConfig Gqa(bool attentionBias = false) => new LlamaConfig
    {
        VocabSize = 64,
        HiddenSize = 64,
        IntermediateSize = 96,
        NumHiddenLayers = 2,
        NumAttentionHeads = 8,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 256,
        RopeTheta = 500000.0,
        RopeScaling = new RopeScaling(RopeScaling.Llama3, 8.0, 1.0, 4.0, 64),
        RmsNormEps = 1e-5,
        AttentionBias = attentionBias,
        BosTokenId = 0,
        EosTokenIds = [1],
        TorchDtype = "float32",
    }.Validate();

    /// <summary>A random dense model (seeded).</summary>
    public static LlamaForCausalLM DenseModel(LlamaConfig config, long seed)
    {
        torch.manual_seed(seed);
        var model = new LlamaForCausalLM(config);
        if (config.AttentionBias)
        {
            using var noGrad = no_grad();
            foreach (var (name, parameter) in model.named_parameters().Where(p => p.name.EndsWith(".bias", StringComparison.Ordinal)))
            {
                parameter.normal_(0, 0.5);
            }
        }

        model.eval();
        return model;
    }

    /// <summary>Every expert selected with weight 1 and scale 1: the lossless setting.</summary>
    public static AttentionMoeOptions AllExpertsUnit(LlamaConfig config, int split) =>
        AttentionMoeOptions.ForAllLayers(config, topK: config.NumKeyValueHeads * split, split) with { Weights = RoutingWeights.Unit };

    /// <summary>Random token ids <c>(B, T)</c>.</summary>
    public static Tensor Tokens(int batch, int length, int vocab, long seed) =>
        randint(0, vocab, new long[] { batch, length }, dtype: ScalarType.Int64, generator: new Generator((ulong)seed));

    /// <summary>The attention-MoE blocks of <paramref name="model"/>.</summary>
    public static AttentionMoeBlock[] Blocks(LlamaForCausalLM model) =>
        model.Model.Layers.Select(layer => layer.Attention).OfType<AttentionMoeBlock>().ToArray();

    /// <summary>Largest absolute difference.</summary>
    public static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
