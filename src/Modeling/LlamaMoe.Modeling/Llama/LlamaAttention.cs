using LlamaMoe.Modeling.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>Dense LLaMA self-attention: q/k/v/o projections, RoPE, grouped-query attention (KV heads repeated).</summary>
public sealed class LlamaAttention : AttentionBlock
{
    private readonly int heads;
    private readonly int kvHeads;
    private readonly int headDim;
    private readonly Linear qProj;
    private readonly Linear kProj;
    private readonly Linear vProj;
    private readonly Linear oProj;

    /// <summary>Creates the projections from <paramref name="config"/>.</summary>
    public LlamaAttention(LlamaConfig config) : base(nameof(LlamaAttention))
    {
        heads = config.NumAttentionHeads;
        kvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        qProj = nn.Linear(config.HiddenSize, config.QueryWidth, hasBias: config.AttentionBias);
        kProj = nn.Linear(config.HiddenSize, config.KeyValueWidth, hasBias: config.AttentionBias);
        vProj = nn.Linear(config.HiddenSize, config.KeyValueWidth, hasBias: config.AttentionBias);
        oProj = nn.Linear(config.QueryWidth, config.HiddenSize, hasBias: config.AttentionBias);
        register_module("q_proj", qProj);
        register_module("k_proj", kProj);
        register_module("v_proj", vProj);
        register_module("o_proj", oProj);
    }

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc />
    public override string StateDictName => "self_attn";

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor? attentionMask, KvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (hiddenStates.shape[0], hiddenStates.shape[1]);
        var q = qProj.forward(hiddenStates).view(b, t, heads, headDim).transpose(1, 2);   // (B, H, T, hd)
        var k = kProj.forward(hiddenStates).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, KV, T, hd)
        var v = vProj.forward(hiddenStates).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, KV, T, hd)
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Append(layerIndex, k, v);                                      // (B, KV, S, hd)
        }

        if (kvHeads != heads)
        {
            k = k.repeat_interleave(heads / kvHeads, dim: 1);                             // (B, H, S, hd)
            v = v.repeat_interleave(heads / kvHeads, dim: 1);                             // (B, H, S, hd)
        }

        // Without a mask: causal for a fresh sequence (lets libtorch use its fused kernel), or all cached keys for one new token.
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, attentionMask?.to_type(q.dtype), is_casual: attentionMask is null && t > 1); // (B, H, T, hd)
        var merged = attended.transpose(1, 2).reshape(b, t, heads * headDim);            // (B, T, H*hd)
        return oProj.forward(merged).MoveToOuterDisposeScope();                          // (B, T, D)
    }
}
