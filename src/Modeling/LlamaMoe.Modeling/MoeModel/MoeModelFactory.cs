using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>
/// Builds <see cref="LlamaForCausalLM"/> instances for a <see cref="MoeConfig"/>: a <see cref="SparseMoeBlock"/> in every
/// MoE layer (its own expert sizes, scale factor, residual and router) and the dense <see cref="SwiGluMlp"/> in the
/// contract layers.
/// </summary>
public static class MoeModelFactory
{
    /// <summary>
    /// Hook for attention-MoE: given the config's <c>attention_moe</c> object, returns the attention factory (or null for
    /// dense attention). Defaults to the built-in attention-MoE support; null means attention-MoE configs are refused.
    /// </summary>
    public static Func<MoeConfig, Func<int, LlamaConfig, AttentionBlock>?>? AttentionFactoryProvider { get; set; } =
        AttentionMoeModelSupport.AttentionFactory;

    /// <summary>The MoE config of a loaded model, or null for a dense model.</summary>
    public static MoeConfig? MoeConfigOf(LlamaForCausalLM model) =>
        model.Config.ModelType == MoeConfig.ModelType ? MoeConfig.FromLlamaConfig(model.Config) : null;

    /// <summary>The per-layer block factories of <paramref name="config"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2205 when the config has attention-MoE but no attention-MoE code is registered.</exception>
    public static LlamaBlockFactories Factories(MoeConfig config)
    {
        Func<int, LlamaConfig, AttentionBlock>? attention = null;
        if (config.AttentionMoe is not null)
        {
            attention = AttentionFactoryProvider?.Invoke(config)
                ?? throw new LlamaMoeException(ConstructionErrorCodes.UnknownModelFormat, "the model uses attention-MoE, which this build cannot construct",
                    key: "attention_moe", advice: "Use a build with attention-MoE support, or convert without attention-MoE.");
        }

        return new LlamaBlockFactories(
            attention,
            (layer, llama) => config.IsMoeLayer(layer) ? new SparseMoeBlock(config.BlockOptions(layer)) : new SwiGluMlp(llama));
    }

    /// <summary>A randomly initialised model of <paramref name="config"/> (float32, CPU).</summary>
    public static LlamaForCausalLM Create(MoeConfig config) => new(config.ToLlamaConfig(), Factories(config));

    /// <summary>
    /// The parameters of <paramref name="config"/>: total, and active per token (k experts + residual in MoE layers, top-k
    /// attention experts plus the attention router in attention-MoE layers).
    /// </summary>
    public static (long Total, long Active) ParameterCounts(MoeConfig config)
    {
        var dense = config.Dense;
        var hidden = (long)dense.HiddenSize;
        var attention = (hidden * dense.QueryWidth * 2) + (hidden * dense.KeyValueWidth * 2);
        var attentionMoe = AttentionMoe.AttentionMoeOptionsJson.Read(config.AttentionMoe);
        var norms = 2 * hidden;
        var embeddings = (long)dense.VocabSize * hidden * (dense.TieWordEmbeddings ? 1 : 2) + hidden;
        long total = embeddings, active = embeddings;
        for (var layer = 0; layer < dense.NumHiddenLayers; layer++)
        {
            total += norms;
            active += norms;
            if (attentionMoe?.AppliesTo(layer) == true)
            {
                // Each expert: G/split query heads (q and o) plus its own copy of one K/V head; the router is always active.
                var expert = (2 * hidden * dense.QueryWidth / attentionMoe.NumExperts) + (2 * hidden * dense.HeadDim);
                total += (attentionMoe.NumExperts * expert) + (hidden * attentionMoe.NumExperts);
                active += (attentionMoe.TopK * expert) + (hidden * attentionMoe.NumExperts);
            }
            else
            {
                total += attention;
                active += attention;
            }

            if (!config.IsMoeLayer(layer))
            {
                total += 3 * hidden * dense.IntermediateSize;
                active += 3 * hidden * dense.IntermediateSize;
                continue;
            }

            var position = config.IndexOfMoeLayer(layer);
            var sizes = config.ExpertSizes[position];
            var router = hidden * config.ExpertCount * (config.Router.Noisy ? 2 : 1)
                + (config.Router.Network == RouterNetwork.TanhMlp ? (long)config.ExpertCount * config.ExpertCount : 0);
            total += router + (3 * hidden * (sizes.Sum() + config.ResidualSize));
            active += router + (3 * hidden * (sizes.OrderByDescending(s => s).Take(config.TopK).Sum() + config.ResidualSize));
        }

        return (total, active);
    }
}
