using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Hugging Face Mixtral (<c>model_type</c> mixtral, <c>MixtralForCausalLM</c>): written only for models that fit
/// (<see cref="MoeExportChecks.RequireMixtralCompatible"/>); each layer's scale factor is folded into its experts' w2, so
/// stock transformers reproduces the model. Read back into the native layout (scale 1, dense width m·E).
/// </summary>
public static class MixtralFormat
{
    /// <summary>The Mixtral-specific config keys (beyond the LLaMA keys).</summary>
    public static IReadOnlySet<string> ExtensionKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "num_local_experts", "num_experts_per_tok", "router_aux_loss_coef", "output_router_logits", "sliding_window", "router_jitter_noise",
    };

    /// <summary>Writes <paramref name="checkpoint"/> as a Mixtral directory (LMOE121x when it does not fit).</summary>
    public static void Write(MoeCheckpoint checkpoint, string directory, string? companionSource = null, long maxShardBytes = 5L << 30)
    {
        MoeExportChecks.RequireMixtralCompatible(checkpoint, "mixtral");
        Directory.CreateDirectory(directory);
        StreamingCheckpointWriter.Write(directory, FoldScale(checkpoint), maxShardBytes);

        MoeConfigJson.Write(ConfigJson(checkpoint), directory);
        NativeMoeFormat.FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>The Mixtral config.json object for <paramref name="checkpoint"/>.</summary>
    public static JsonObject ConfigJson(MoeCheckpoint checkpoint)
    {
        var layout = checkpoint.Config;
        var m = layout.ExpertSizes[0][0];
        var root = MoeConfigJson.ConvertedJson(layout.Dense with { IntermediateSize = m }, "mixtral", "MixtralForCausalLM");
        root.Remove("attention_bias");
        root.Remove("mlp_bias");
        if (root["rope_scaling"] is null)
        {
            root.Remove("rope_scaling");
        }

        root["num_local_experts"] = layout.ExpertCount;
        root["num_experts_per_tok"] = layout.TopK;
        root["router_aux_loss_coef"] = 0.01;
        root["output_router_logits"] = false;
        // router_jitter_noise and attention_dropout are left at transformers' float defaults (0.0): System.Text.Json
        // writes 0.0 as the integer 0, which strict config classes (transformers 5) refuse for float fields.
        root.Remove("router_jitter_noise");
        root.Remove("attention_dropout");
        root["sliding_window"] = null;
        root["initializer_range"] = root["initializer_range"]?.DeepClone() ?? 0.02;
        root["use_cache"] = true;
        return root;
    }

    /// <summary>Opens a Mixtral directory in the native layout (tensors are read when used).</summary>
    public static MoeCheckpoint Read(string directory) => CheckpointTensors.Open(directory, ReadConfig(directory));

    /// <summary>The native config of a Mixtral directory (config.json only; LMOE1220/LMOE1222 when it does not fit).</summary>
    public static MoeConfig ReadConfig(string directory)
    {
        var (dense, keys) = MoeConfigJson.ReadConverted(directory, ExtensionKeys, "mixtral");
        if (keys.Has("sliding_window") && keys.Int("sliding_window") < dense.MaxPositionEmbeddings)
        {
            throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, $"sliding_window {keys.Int("sliding_window")} is shorter than max_position_embeddings; sliding-window attention is not supported",
                keys.FilePath, "sliding_window", "Set sliding_window to null when the model was trained without it.");
        }

        return FromMixtralKeys(dense, keys, residualSize: 0, scale: 1.0, attentionMoe: null);
    }

    /// <summary>The native config of a Mixtral-style config (also used by the LLaMA-MoE v2 reader): every layer MoE with E experts of the Mixtral width.</summary>
    internal static MoeConfig FromMixtralKeys(LlamaConfig mixtralDense, ConfigKeyReader keys, int residualSize, double scale, JsonObject? attentionMoe)
    {
        var experts = keys.Int("num_local_experts");
        var m = mixtralDense.IntermediateSize;
        var layers = Enumerable.Range(0, mixtralDense.NumHiddenLayers).ToArray();
        return keys.Validated(new MoeConfig
        {
            Dense = mixtralDense with { IntermediateSize = checked((m * experts) + residualSize) },
            ExpertCount = experts,
            TopK = keys.Int("num_experts_per_tok"),
            MoeLayers = layers,
            ExpertSizes = layers.Select(_ => (IReadOnlyList<int>)Enumerable.Repeat(m, experts).ToArray()).ToArray(),
            ResidualSize = residualSize,
            ScaleFactors = layers.Select(_ => scale).ToArray(),
            Router = MoeRouterSpec.V2,
            AttentionMoe = attentionMoe,
        });
    }

    /// <summary>
    /// The checkpoint's entries with each layer's scale factor multiplied into its experts' w2 (in the tensors' own dtype,
    /// rounded once); nothing is read until a writer produces the entries.
    /// </summary>
    internal static IReadOnlyList<StreamedTensor> FoldScale(MoeCheckpoint checkpoint)
    {
        var config = checkpoint.Config;
        return checkpoint.Entries.Select(entry =>
        {
            var layer = DenseTensorNames.LayerOf(entry.Name);
            var folds = layer >= 0 && config.IsMoeLayer(layer) && entry.Name.EndsWith(".w2.weight", StringComparison.Ordinal) && entry.Name.Contains(".experts.", StringComparison.Ordinal);
            return CheckpointTensors.Scaled(entry, folds ? config.ScaleFactors[config.IndexOfMoeLayer(layer)] : 1.0);
        }).ToList();
    }
}
