using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// Streams a dense LLaMA directory into a native MoE directory, layer by layer and tensor by tensor: non-MLP tensors are
/// copied, each MoE layer's gate_proj/up_proj/down_proj is read once and sliced into its experts (spec §1.1), and every
/// output tensor is written and freed before the next is produced. Peak memory is about one dense MLP matrix plus one
/// expert slice. With an <see cref="AttentionMoePlan"/> the listed layers' q/k/v/o projections are sliced into attention
/// experts the same way (spec §2). The output directory is published atomically.
/// </summary>
public static class MoeConverter
{
    /// <summary>Converts <paramref name="denseDirectory"/> into <paramref name="outputDirectory"/>; returns the written config.</summary>
    /// <param name="denseDirectory">A dense LLaMA directory (model_type llama).</param>
    /// <param name="outputDirectory">The native MoE directory to create.</param>
    /// <param name="plans">The plan of every MoE layer, by model layer index.</param>
    /// <param name="options">Top-k, scale, router, contract layers, sharding.</param>
    /// <param name="attention">Attention-MoE to build as well, or null to keep every attention dense.</param>
    /// <exception cref="LlamaMoeException">
    /// LMOE2206 when a plan does not fit the checkpoint, LMOE2211 when the output exists, LMOE2212 for bad options,
    /// LMOE2301/2302 for attention-MoE options that are out of range or do not fit the model.
    /// </exception>
    public static MoeConfig Convert(string denseDirectory, string outputDirectory, IReadOnlyDictionary<int, MoeLayerPlan> plans, MoeConversionOptions options, AttentionMoePlan? attention = null)
    {
        var dense = LlamaConfigJson.Read(Path.Combine(denseDirectory, ModelDirectory.ConfigFileName));
        var config = BuildConfig(dense, plans, options, attention);
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any() && !options.Overwrite)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.OutputExists, "the output directory exists and is not empty", outputDirectory,
                advice: "Choose a new directory, or allow overwriting (--force).");
        }

        using var checkpoint = ShardedCheckpoint.Open(denseDirectory);
        using var cache = new DenseTensorCache(checkpoint);
        var tensors = PlanTensors(config, checkpoint, cache, plans, attention);
        AtomicDirectory.Publish(outputDirectory, temp =>
        {
            StreamingCheckpointWriter.Write(temp, tensors, options.MaxShardBytes);
            cache.Release();
            config.Write(Path.Combine(temp, ModelDirectory.ConfigFileName));
            if (options.CopyCompanionFiles)
            {
                ModelDirectory.CopyCompanionFiles(denseDirectory, temp);
            }
        });
        return config;
    }

    /// <summary>The native config for converting <paramref name="dense"/> with <paramref name="plans"/> (validated against the dense shapes).</summary>
    public static MoeConfig BuildConfig(LlamaConfig dense, IReadOnlyDictionary<int, MoeLayerPlan> plans, MoeConversionOptions options, AttentionMoePlan? attention = null)
    {
        attention?.Validate(dense);
        var layers = options.MoeLayers(dense.NumHiddenLayers);
        var sizes = new List<IReadOnlyList<int>>();
        int? experts = null, residual = null;
        foreach (var layer in layers)
        {
            if (!plans.TryGetValue(layer, out var plan))
            {
                throw Mismatch($"no expert plan for MoE layer {layer}", $"layers.{layer}");
            }

            var partition = plan.Partition;
            partition.Validate();
            if (partition.NeuronCount != dense.IntermediateSize)
            {
                throw Mismatch($"layer {layer}'s partition covers {partition.NeuronCount} neurons but intermediate_size is {dense.IntermediateSize}", $"layers.{layer}");
            }

            experts ??= partition.ExpertCount;
            residual ??= partition.Residual?.Length ?? 0;
            if (partition.ExpertCount != experts || (partition.Residual?.Length ?? 0) != residual)
            {
                throw Mismatch($"layer {layer} has {partition.ExpertCount} experts and a residual of {partition.Residual?.Length ?? 0}; every MoE layer needs {experts} and {residual}", $"layers.{layer}");
            }

            if (plan.RouterWeight.dim() != 2 || plan.RouterWeight.shape[0] != experts || plan.RouterWeight.shape[1] != dense.HiddenSize)
            {
                throw Mismatch($"layer {layer}'s router weight is [{string.Join(", ", plan.RouterWeight.shape)}], expected [{experts}, {dense.HiddenSize}]", $"layers.{layer}.router");
            }

            sizes.Add(partition.ExpertSizes);
        }

        var scales = options.LayerScaleFactors ?? Enumerable.Repeat(options.ScaleFactor, layers.Count).ToArray();
        try
        {
            return new MoeConfig
            {
                Dense = dense,
                ExpertCount = experts!.Value,
                TopK = options.TopK,
                MoeLayers = layers,
                ExpertSizes = sizes,
                ResidualSize = residual!.Value,
                ScaleFactors = scales,
                Router = options.Router ?? MoeRouterSpec.V2,
                AttentionMoe = AttentionMoeOptionsJson.Write(attention?.Options),
            }.Validate();
        }
        catch (LlamaMoeException error) when (error.Code == ConstructionErrorCodes.MoeContradiction)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions, error.Message, key: error.Key, advice: "Fix the conversion options (top-k ≤ experts, one scale factor per MoE layer).", inner: error);
        }
    }

    private static List<StreamedTensor> PlanTensors(MoeConfig config, ShardedCheckpoint checkpoint, DenseTensorCache cache, IReadOnlyDictionary<int, MoeLayerPlan> plans, AttentionMoePlan? attention)
    {
        var tensors = new List<StreamedTensor>();
        var consumed = new Dictionary<string, (int Layer, bool Attention)>(StringComparer.Ordinal);
        foreach (var layer in config.MoeLayers)
        {
            foreach (var key in MlpKeys(layer, config.Dense.MlpBias))
            {
                consumed[key] = (layer, false);
            }
        }

        foreach (var layer in attention?.Options.Layers ?? [])
        {
            foreach (var key in AttentionTensorPlanner.DenseKeys(layer, config.Dense.AttentionBias))
            {
                consumed[key] = (layer, true);
            }
        }

        // Every dense tensor in file order; an MoE layer's expert tensors are emitted where its MLP (or attention) was.
        var emitted = new HashSet<(int Layer, bool Attention)>();
        foreach (var name in checkpoint.Names)
        {
            if (!consumed.TryGetValue(name, out var group))
            {
                var info = checkpoint.Info(name);
                var key = name;
                tensors.Add(new StreamedTensor(name, info.ScalarType, info.Shape.ToArray(), () => checkpoint.Read(key)));
                continue;
            }

            if (emitted.Add(group))
            {
                tensors.AddRange(group.Attention
                    ? AttentionTensorPlanner.Plan(config.Dense, group.Layer, attention!, checkpoint, cache)
                    : ExpertTensorPlanner.Plan(config, group.Layer, plans[group.Layer], checkpoint, cache));
            }
        }

        foreach (var layer in config.MoeLayers.Where(l => !emitted.Contains((l, false))))
        {
            throw Mismatch($"the dense checkpoint has no MLP tensors for layer {layer}", $"model.layers.{layer}.mlp");
        }

        foreach (var layer in (attention?.Options.Layers ?? []).Where(l => !emitted.Contains((l, true))))
        {
            throw Mismatch($"the dense checkpoint has no attention tensors for layer {layer}", $"model.layers.{layer}.self_attn");
        }

        return tensors;
    }

    internal static IEnumerable<string> MlpKeys(int layer, bool bias)
    {
        foreach (var projection in new[] { "gate_proj", "up_proj", "down_proj" })
        {
            yield return $"model.layers.{layer}.mlp.{projection}.weight";
            if (bias)
            {
                yield return $"model.layers.{layer}.mlp.{projection}.bias";
            }
        }
    }

    private static int LayerOf(string name) => int.Parse(name.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture);

    internal static LlamaMoeException Mismatch(string message, string key) =>
        new(ConstructionErrorCodes.PlanMismatch, message, key: key, advice: "Build the expert plans from the same dense checkpoint (same intermediate_size, hidden_size and layers).");
}
