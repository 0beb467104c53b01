using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// Dense → attention-MoE conversion, for the <c>convert</c> command's
/// <c>--attention-experts N --attention-top-k K [--attention-split F] [--attention-scale S]</c> options:
/// <see cref="OptionsFromCommandLine"/> checks the flags, <see cref="Factories"/> adds attention-MoE blocks to a model's
/// block factories (composes with MLP-MoE factories), <see cref="LoadLayers"/> slices them from the dense model, and
/// <see cref="Apply"/> does an attention-only conversion in one call.
/// </summary>
public static class AttentionMoeConversion
{
    /// <summary>v2's default attention top-k for <paramref name="experts"/> experts: all but one (top-7 of 8), at least 1.</summary>
    public static int DefaultTopK(int experts) => Math.Max(1, experts - 1);

    /// <summary>
    /// Options from the command-line values. <paramref name="split"/> defaults to <c>experts / kv_heads</c>;
    /// <paramref name="layers"/> to every layer; <paramref name="scaleFactor"/> to 1.
    /// </summary>
    /// <exception cref="LlamaMoeException">
    /// LMOE2305 when experts is not a multiple of kv_heads (without a split) or contradicts the split;
    /// LMOE2301/LMOE2302 for out-of-range values.
    /// </exception>
    public static AttentionMoeOptions OptionsFromCommandLine(LlamaConfig config, int experts, int topK, int? split = null, double? scaleFactor = null, IReadOnlyList<int>? layers = null)
    {
        var kvHeads = config.NumKeyValueHeads;
        if (split is null && (experts < kvHeads || experts % kvHeads != 0))
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.BadCommandLine,
                $"--attention-experts {experts} is not a multiple of the model's {kvHeads} KV heads (one expert per GQA group, or per 1/split of one).",
                "--attention-experts",
                $"Use --attention-experts {kvHeads} (split 1) or a multiple of it.");
        }

        if (split is { } given && experts != kvHeads * given)
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.BadCommandLine,
                $"--attention-experts {experts} contradicts --attention-split {given}: the model has {kvHeads} KV heads, so split {given} gives {kvHeads * given} experts.",
                "--attention-split",
                $"Use --attention-experts {kvHeads * given}, or leave out --attention-split.");
        }

        var options = new AttentionMoeOptions(
            experts,
            topK,
            scaleFactor ?? 1.0,
            split ?? experts / kvHeads,
            layers ?? Enumerable.Range(0, config.NumHiddenLayers).ToArray());
        return options.Validate(config);
    }

    /// <summary><paramref name="baseFactories"/> (dense by default) with attention-MoE blocks in <paramref name="options"/>' layers.</summary>
    public static LlamaBlockFactories Factories(AttentionMoeOptions options, LlamaBlockFactories? baseFactories = null)
    {
        var inner = baseFactories ?? LlamaBlockFactories.Dense;
        return inner with
        {
            Attention = (index, config) => options.AppliesTo(index) ? new AttentionMoeBlock(config, options) : inner.CreateAttention(index, config),
        };
    }

    /// <summary>
    /// Fills every <see cref="AttentionMoeBlock"/> of <paramref name="target"/> from the same layer's dense attention in
    /// <paramref name="dense"/> and initialises its router (layer i's Kaiming seed is <c>seed + i</c>).
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2304 when a dense layer is not a <see cref="LlamaAttention"/> or does not fit.</exception>
    public static void LoadLayers(LlamaForCausalLM dense, LlamaForCausalLM target, AttentionRouterInit routerInit, long seed = 0)
    {
        var denseLayers = dense.Model.Layers;
        var targetLayers = target.Model.Layers;
        for (var i = 0; i < targetLayers.Count; i++)
        {
            if (targetLayers[i].Attention is not AttentionMoeBlock block)
            {
                continue;
            }

            if (i >= denseLayers.Count || denseLayers[i].Attention is not LlamaAttention denseAttention)
            {
                throw AttentionMoeErrors.Create(
                    AttentionMoeErrors.WeightsDoNotFit,
                    $"Layer {i} of the source model has no dense attention to slice into attention experts.",
                    DenseTensorNames.InLayer(i, "self_attn"),
                    "Convert from a dense model with the same number of layers.");
            }

            var partition = AttentionExpertPartition.FromConfig(target.Config, block.Options.Split);
            AttentionMoeSlicer.LoadDense(block, DenseAttentionWeights.From(denseAttention), partition);
            AttentionMoeSlicer.InitializeRouter(block, routerInit, seed + i);
        }
    }

    /// <summary>
    /// Attention-only conversion: a new model (same dtype and device as <paramref name="dense"/>, config carrying the
    /// <c>attention_moe</c> key) whose listed layers hold attention experts sliced from <paramref name="dense"/>; every
    /// other parameter is copied. The caller owns (disposes) the result.
    /// </summary>
    public static LlamaForCausalLM Apply(LlamaForCausalLM dense, AttentionMoeOptions options, AttentionRouterInit routerInit = AttentionRouterInit.KaimingUniform, long seed = 0)
    {
        options.Validate(dense.Config);
        var weight = dense.LmHeadWeight;
        var model = new LlamaForCausalLM(AttentionMoeOptionsJson.WithOptions(dense.Config, options), Factories(options));
        try
        {
            model.to(weight.dtype).to(weight.device);
            CopyMatchingParameters(dense, model);
            LoadLayers(dense, model, routerInit, seed);
            model.train(dense.training);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static void CopyMatchingParameters(LlamaForCausalLM source, LlamaForCausalLM target)
    {
        var sourceTensors = StateDictLoader.NamedTensors(source).ToDictionary(pair => pair.Key, pair => pair.Value);
        using var noGrad = no_grad();
        foreach (var (name, tensor) in StateDictLoader.NamedTensors(target))
        {
            if (sourceTensors.TryGetValue(name, out var value) && value.shape.SequenceEqual(tensor.shape))
            {
                tensor.copy_(value);
            }
        }
    }
}
