using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// The attention slot of a decoder layer (dense <see cref="LlamaAttention"/>, or an attention-MoE block later).
/// Registered by the decoder layer under <see cref="StateDictName"/>.
/// </summary>
public abstract class AttentionBlock : nn.Module
{
    /// <summary>Creates the block with the TorchSharp module name.</summary>
    protected AttentionBlock(string name) : base(name)
    {
    }

    /// <summary>The key under which the decoder layer registers this block (<c>self_attn</c> for LLaMA).</summary>
    public abstract string StateDictName { get; }

    /// <summary>Runs attention.</summary>
    /// <param name="hiddenStates">Normalised hidden states <c>(B, T, D)</c>.</param>
    /// <param name="cos">RoPE cosines <c>(B, T, hd)</c>.</param>
    /// <param name="sin">RoPE sines <c>(B, T, hd)</c>.</param>
    /// <param name="attentionMask">
    /// Additive mask <c>(B or 1, 1, T, S)</c> over all S = past + T key positions (causality included), or null for plain causal
    /// attention (only passed when there is no cache prefix or T is 1, so "causal" is unambiguous).
    /// </param>
    /// <param name="cache">The KV cache, or null.</param>
    /// <param name="layerIndex">This layer's index into <paramref name="cache"/>.</param>
    /// <returns>The attention output <c>(B, T, D)</c>.</returns>
    public abstract Tensor Forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor? attentionMask, KvCache? cache, int layerIndex);
}
