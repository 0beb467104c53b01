using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Moe;
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
        using (var tensors = new OwnedTensors(FoldScale(checkpoint)))
        {
            ModelDirectory.SaveWeights(directory, tensors.Items, maxShardBytes);
        }

        MoeJson.Write(ConfigJson(checkpoint), directory);
        NativeMoeFormat.FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>The Mixtral config.json object for <paramref name="checkpoint"/>.</summary>
    public static JsonObject ConfigJson(MoeCheckpoint checkpoint)
    {
        var layout = checkpoint.Layout;
        var m = layout.ExpertSizes[0][0];
        var root = MoeJson.BaseJson(checkpoint.Base with { IntermediateSize = m }, "mixtral", "MixtralForCausalLM");
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
        root["router_jitter_noise"] = 0.0;
        root["sliding_window"] = null;
        root["attention_dropout"] = 0.0;
        root["initializer_range"] = root["initializer_range"]?.DeepClone() ?? 0.02;
        root["use_cache"] = true;
        return root;
    }

    /// <summary>Reads a Mixtral directory into the native layout.</summary>
    public static MoeCheckpoint Read(string directory)
    {
        var (baseConfig, moe) = MoeJson.ReadConfig(directory, ExtensionKeys, "mixtral");
        if (moe.Has("sliding_window") && moe.Int("sliding_window") < baseConfig.MaxPositionEmbeddings)
        {
            throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, $"sliding_window {moe.Int("sliding_window")} is shorter than max_position_embeddings; sliding-window attention is not supported",
                Path.Combine(directory, ModelDirectory.ConfigFileName), "sliding_window", "Set sliding_window to null when the model was trained without it.");
        }

        return FromMixtralTensors(directory, baseConfig, moe, residualSize: 0, scale: 1.0, attentionMoe: null, residualKey: null);
    }

    /// <summary>Builds the native checkpoint from Mixtral-keyed tensors (also used by the LLaMA-MoE v2 reader).</summary>
    internal static MoeCheckpoint FromMixtralTensors(string directory, Config.LlamaConfig mixtralBase, MoeJson moe, int residualSize, double scale, JsonObject? attentionMoe, Func<string, string?>? residualKey)
    {
        var experts = moe.Int("num_local_experts");
        var m = mixtralBase.IntermediateSize;
        var baseConfig = mixtralBase with { IntermediateSize = checked((m * experts) + residualSize) };
        var layers = Enumerable.Range(0, baseConfig.NumHiddenLayers).ToArray();
        var layout = new MoeLayout(experts, moe.Int("num_experts_per_tok"), layers, layers.Select(_ => (IReadOnlyList<int>)Enumerable.Repeat(m, experts).ToArray()).ToArray(),
            residualSize, layers.Select(_ => scale).ToArray(), RouterNetwork.Linear, RoutingWeights.SoftmaxRenormalized, false, attentionMoe);
        var tensors = CheckpointTensors.ReadAll(directory);
        var renamed = tensors.Select(p => new KeyValuePair<string, Tensor>(residualKey?.Invoke(p.Key) ?? p.Key, p.Value)).ToList();
        return new MoeCheckpoint(baseConfig, layout, renamed);
    }

    /// <summary>The tensors with each layer's scale factor multiplied into its experts' w2 (new tensors only where scaled).</summary>
    internal static List<(string Name, Tensor Tensor, bool Owned)> FoldScale(MoeCheckpoint checkpoint)
    {
        var result = new List<(string, Tensor, bool)>();
        foreach (var (name, tensor) in checkpoint.Tensors)
        {
            var layer = MoeTensorNames.LayerOf(name);
            var scale = layer >= 0 && checkpoint.Layout.IsMoe(layer) && name.EndsWith(".w2.weight", StringComparison.Ordinal) && name.Contains(".experts.", StringComparison.Ordinal)
                ? checkpoint.Layout.ScaleFactors[checkpoint.Layout.MoeIndex(layer)] : 1.0;
            result.Add(scale == 1.0 ? (name, tensor, false) : (name, tensor.mul(scale), true));
        }

        return result;
    }

    /// <summary>A tensor list that disposes the tensors it created.</summary>
    internal sealed class OwnedTensors(List<(string Name, Tensor Tensor, bool Owned)> items) : IDisposable
    {
        public IReadOnlyList<KeyValuePair<string, Tensor>> Items { get; } = items.Select(i => new KeyValuePair<string, Tensor>(i.Name, i.Tensor)).ToList();

        public void Dispose()
        {
            foreach (var (_, t, owned) in items)
            {
                if (owned)
                {
                    t.Dispose();
                }
            }
        }
    }
}
