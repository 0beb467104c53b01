using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// Builds the attention and feed-forward block of each layer. The defaults give the dense LLaMA; an MoE model
/// supplies a feed-forward factory (per layer, so some layers can stay dense) and later an attention factory.
/// </summary>
/// <param name="Attention">Builds layer i's attention block, or null for <see cref="LlamaAttention"/>.</param>
/// <param name="FeedForward">Builds layer i's feed-forward block, or null for <see cref="SwiGluMlp"/>.</param>
public sealed record LlamaBlockFactories(
    Func<int, LlamaConfig, AttentionBlock>? Attention = null,
    Func<int, LlamaConfig, FeedForwardBlock>? FeedForward = null)
{
    /// <summary>The dense LLaMA.</summary>
    public static LlamaBlockFactories Dense { get; } = new();

    /// <summary>Builds layer <paramref name="index"/>'s attention block.</summary>
    public AttentionBlock CreateAttention(int index, LlamaConfig config) => Attention?.Invoke(index, config) ?? new LlamaAttention(config);

    /// <summary>Builds layer <paramref name="index"/>'s feed-forward block.</summary>
    public FeedForwardBlock CreateFeedForward(int index, LlamaConfig config) => FeedForward?.Invoke(index, config) ?? new SwiGluMlp(config);
}
