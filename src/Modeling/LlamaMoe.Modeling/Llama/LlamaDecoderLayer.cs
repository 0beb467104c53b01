using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// One pre-norm decoder layer: <c>x + attn(input_layernorm(x))</c>, then <c>h + ffn(post_attention_layernorm(h))</c>.
/// The attention and feed-forward slots are replaceable (dense, or MoE registered as <c>block_sparse_moe</c>).
/// </summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    /// <summary>Creates the layer from its parts.</summary>
    public LlamaDecoderLayer(AttentionBlock attention, FeedForwardBlock feedForward, long hiddenSize, double rmsNormEps) : base(nameof(LlamaDecoderLayer))
    {
        InputLayerNorm = new RmsNorm(hiddenSize, rmsNormEps);
        PostAttentionLayerNorm = new RmsNorm(hiddenSize, rmsNormEps);
        Attention = attention;
        FeedForward = feedForward;
        register_module(attention.StateDictName, attention);
        register_module(feedForward.StateDictName, feedForward);
        register_module("input_layernorm", InputLayerNorm);
        register_module("post_attention_layernorm", PostAttentionLayerNorm);
    }

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The norm before attention.</summary>
    public RmsNorm InputLayerNorm { get; }

    /// <summary>The norm before the feed-forward block.</summary>
    public RmsNorm PostAttentionLayerNorm { get; }

    /// <summary>The attention slot.</summary>
    public AttentionBlock Attention { get; }

    /// <summary>The feed-forward slot.</summary>
    public FeedForwardBlock FeedForward { get; }

    /// <summary>Runs the layer on <c>(B, T, D)</c> hidden states.</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor? attentionMask, KvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        var attended = Attention.Forward(InputLayerNorm.forward(hiddenStates), cos, sin, attentionMask, cache, layerIndex); // (B, T, D)
        var h = hiddenStates + attended;                                                                                   // (B, T, D)
        var output = h + FeedForward.forward(PostAttentionLayerNorm.forward(h));                                            // (B, T, D)
        return output.MoveToOuterDisposeScope();
    }
}
