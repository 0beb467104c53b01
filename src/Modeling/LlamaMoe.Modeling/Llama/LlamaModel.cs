using LlamaMoe.Modeling.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>The LLaMA trunk (<c>model.*</c>): token embedding, decoder layers, final norm.</summary>
public sealed class LlamaModel : nn.Module
{
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RotaryEmbedding rotary;

    /// <summary>Builds the trunk for <paramref name="config"/> with the given block factories.</summary>
    public LlamaModel(LlamaConfig config, LlamaBlockFactories factories) : base(nameof(LlamaModel))
    {
        Config = config;
        EmbedTokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = nn.ModuleList<LlamaDecoderLayer>();
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            layers.Add(new LlamaDecoderLayer(factories.CreateAttention(i, config), factories.CreateFeedForward(i, config), config.HiddenSize, config.RmsNormEps));
        }

        Norm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        rotary = new RotaryEmbedding(config);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", layers);
        register_module("norm", Norm);
    }

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The architecture.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Token embedding <c>(V, D)</c>.</summary>
    public Embedding EmbedTokens { get; }

    /// <summary>The decoder layers.</summary>
    public IReadOnlyList<LlamaDecoderLayer> Layers => layers.ToList();

    /// <summary>The final norm.</summary>
    public RmsNorm Norm { get; }

    /// <summary>The rotary embedding.</summary>
    public RotaryEmbedding Rotary => rotary;

    /// <summary>Runs the trunk; returns the final normalised hidden states <c>(B, T, D)</c>.</summary>
    /// <param name="inputIds">Token ids <c>(B, T)</c>.</param>
    /// <param name="positionIds">Positions <c>(B, T)</c>, or null for <c>past .. past+T-1</c>.</param>
    /// <param name="attentionMask">See <see cref="AttentionMasks.Build"/>.</param>
    /// <param name="cache">KV cache, or null.</param>
    public Tensor Forward(Tensor inputIds, Tensor? positionIds = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (inputIds.shape[0], inputIds.shape[1]);
        var past = cache?.Length ?? 0;
        positionIds ??= torch.arange(past, past + t, device: inputIds.device).unsqueeze(0).expand(b, t); // (B, T)
        var hidden = EmbedTokens.forward(inputIds);                                                       // (B, T, D)
        var (cos, sin) = rotary.Compute(positionIds, hidden.dtype);                                       // (B, T, hd)
        var mask = AttentionMasks.Build(t, past, attentionMask, hidden.dtype, hidden.device);            // (B|1, 1, T, S) or null: causal
        for (var i = 0; i < layers.Count; i++)
        {
            hidden = layers[i].Forward(hidden, cos, sin, mask, cache, i);                                 // (B, T, D)
        }

        return Norm.forward(hidden).MoveToOuterDisposeScope();
    }
}
