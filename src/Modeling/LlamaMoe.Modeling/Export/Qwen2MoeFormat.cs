using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Hugging Face Qwen2-MoE (<c>model_type</c> qwen2_moe, <c>Qwen2MoeForCausalLM</c>) for the residual variant: the routed
/// experts become <c>mlp.experts.{j}.gate_proj/up_proj/down_proj</c> (each layer's scale folded into down_proj), the
/// residual expert becomes <c>mlp.shared_expert</c> with its down_proj doubled and <c>mlp.shared_expert_gate</c> zeroed
/// (σ(0)·2 = 1, exact in every float format), dense layers are <c>mlp_only_layers</c>. Stock transformers reproduces the
/// model while the gate stays zero; reading back halves the shared down_proj and requires the gate to be zero.
/// </summary>
public static class Qwen2MoeFormat
{
    /// <summary>The <c>model_type</c>.</summary>
    public const string ModelType = "qwen2_moe";

    /// <summary>The Qwen2-MoE config keys beyond the LLaMA keys.</summary>
    public static IReadOnlySet<string> ExtensionKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size", "norm_topk_prob", "decoder_sparse_step",
        "mlp_only_layers", "qkv_bias", "use_sliding_window", "sliding_window", "max_window_layers", "output_router_logits", "router_aux_loss_coef",
        "layer_types",
    };

    /// <summary>Writes <paramref name="checkpoint"/> as a Qwen2-MoE directory (LMOE1223 or LMOE121x when it does not fit).</summary>
    public static void Write(MoeCheckpoint checkpoint, string directory, string? companionSource = null, long maxShardBytes = 5L << 30)
    {
        RequireCompatible(checkpoint);
        Directory.CreateDirectory(directory);
        var entries = MixtralFormat.FoldScale(checkpoint).Select(entry =>
        {
            var (target, factor) = ToQwenName(entry.Name);
            return CheckpointTensors.Scaled(entry, factor, target);
        }).ToList();
        foreach (var layer in checkpoint.Config.MoeLayers)
        {
            var dtype = checkpoint.Entry(MoeTensorNames.Router(layer)).Dtype;
            var gateShape = new long[] { 1, checkpoint.Config.Dense.HiddenSize };
            entries.Add(new StreamedTensor(DenseTensorNames.InLayer(layer, "mlp.shared_expert_gate.weight"), dtype, gateShape, () => zeros(gateShape, dtype))); // (1, H)
        }

        StreamingCheckpointWriter.Write(directory, entries, maxShardBytes);
        MoeConfigJson.Write(ConfigJson(checkpoint), directory);
        NativeMoeFormat.FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>The Qwen2-MoE config.json object for <paramref name="checkpoint"/>.</summary>
    public static JsonObject ConfigJson(MoeCheckpoint checkpoint)
    {
        var layout = checkpoint.Config;
        var root = MoeConfigJson.ConvertedJson(layout.Dense, ModelType, "Qwen2MoeForCausalLM");
        foreach (var key in new[] { "attention_bias", "mlp_bias", "attention_dropout", "pretraining_tp", "head_dim" })
        {
            root.Remove(key);
        }

        if (root["rope_scaling"] is null)
        {
            root.Remove("rope_scaling");
        }

        root["num_experts"] = layout.ExpertCount;
        root["num_experts_per_tok"] = layout.TopK;
        root["moe_intermediate_size"] = layout.ExpertSizes[0][0];
        root["shared_expert_intermediate_size"] = layout.ResidualSize;
        root["norm_topk_prob"] = true;
        root["decoder_sparse_step"] = 1;
        root["mlp_only_layers"] = new JsonArray(Enumerable.Range(0, layout.Dense.NumHiddenLayers).Where(l => !layout.IsMoeLayer(l)).Select(l => (JsonNode)l).ToArray());
        root["qkv_bias"] = false;
        root["use_sliding_window"] = false;
        root["sliding_window"] = null;
        root["max_window_layers"] = layout.Dense.NumHiddenLayers;
        root["output_router_logits"] = false;
        root["router_aux_loss_coef"] = 0.001;
        root["initializer_range"] = root["initializer_range"]?.DeepClone() ?? 0.02;
        root["use_cache"] = true;
        return root;
    }

    /// <summary>
    /// Opens a Qwen2-MoE directory written for a residual model in the native layout (scale 1; tensors are read when used,
    /// except the shared-expert gates, which are checked to be zero first: LMOE1224 otherwise).
    /// </summary>
    public static MoeCheckpoint Read(string directory)
    {
        var config = ReadConfig(directory);
        var files = ShardedCheckpoint.Open(directory);
        try
        {
            foreach (var name in files.Names.Where(IsSharedExpertGate))
            {
                using var scope = NewDisposeScope();
                var nonZero = files.Read(name).to_type(ScalarType.Float32).abs().max().item<float>();
                if (nonZero != 0)
                {
                    throw new LlamaMoeException(ExportErrorCodes.QwenGateNotZero, $"'{name}' is not zero (max |w| = {nonZero:G4}); the model has no equivalent without a shared-expert gate",
                        Path.Combine(directory, ModelDirectory.ConfigFileName), name, "Keep shared_expert_gate frozen at zero while training, or load the model in transformers.");
                }
            }

            return new MoeCheckpoint(config, CheckpointTensors.Entries(files, name => IsSharedExpertGate(name) ? null : ToNativeName(name)), files);
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>The native config of a Qwen2-MoE directory (config.json only; LMOE1220/LMOE1223 when it does not fit).</summary>
    public static MoeConfig ReadConfig(string directory)
    {
        var (dense, keys) = MoeConfigJson.ReadConverted(directory, ExtensionKeys, ModelType);
        if (keys.Bool("use_sliding_window", false) || keys.Bool("qkv_bias", false) || keys.Int("decoder_sparse_step", 1) != 1 || !keys.Bool("norm_topk_prob", false))
        {
            throw new LlamaMoeException(ExportErrorCodes.QwenNotExpressible,
                "this Qwen2-MoE config uses sliding windows, q/k/v biases, decoder_sparse_step != 1 or norm_topk_prob false, which the native model does not have",
                keys.FilePath, "norm_topk_prob", "Only Qwen2-MoE directories exported from a residual LlamaMoe model are read.");
        }

        var experts = keys.Int("num_experts");
        var m = keys.Int("moe_intermediate_size");
        var residual = keys.Int("shared_expert_intermediate_size");
        var denseLayers = keys.Has("mlp_only_layers") ? keys.IntArray("mlp_only_layers") : [];
        var layers = Enumerable.Range(0, dense.NumHiddenLayers).Where(l => !denseLayers.Contains(l)).ToArray();
        return keys.Validated(new MoeConfig
        {
            Dense = dense,
            ExpertCount = experts,
            TopK = keys.Int("num_experts_per_tok"),
            MoeLayers = layers,
            ExpertSizes = layers.Select(_ => (IReadOnlyList<int>)Enumerable.Repeat(m, experts).ToArray()).ToArray(),
            ResidualSize = residual,
            ScaleFactors = layers.Select(_ => 1.0).ToArray(),
            Router = MoeRouterSpec.V2,
        });
    }

    /// <summary>Throws when the model has no Qwen2-MoE equivalent (LMOE1223 without a residual expert; LMOE121x otherwise).</summary>
    public static void RequireCompatible(MoeCheckpoint checkpoint)
    {
        var layout = checkpoint.Config;
        if (layout.ResidualSize <= 0)
        {
            throw new LlamaMoeException(ExportErrorCodes.QwenNotExpressible, "the model cannot be exported as qwen2-moe: it has no residual (shared) expert",
                key: "format", advice: "Export models without a residual expert as mixtral.");
        }

        if (layout.Dense.ExplicitHeadDim is { } headDim && headDim != layout.Dense.HiddenSize / layout.Dense.NumAttentionHeads)
        {
            throw new LlamaMoeException(ExportErrorCodes.QwenNotExpressible, $"the model cannot be exported as qwen2-moe: head_dim {headDim} is not hidden_size / num_attention_heads",
                key: "head_dim", advice: "Export to native.");
        }

        string? problem = layout.AttentionMoe is not null ? "it has attention-MoE layers"
            : layout.ExpertSizes.SelectMany(sizes => sizes).Distinct().Count() != 1 ? "its experts differ in size"
            : layout.Router.Network != Moe.RouterNetwork.Linear || layout.Router.Weights != Moe.RoutingWeights.SoftmaxRenormalized || layout.Router.Noisy ? "its router is not linear softmax with renormalised top-k and no noise"
            : layout.Dense.MlpBias || layout.Dense.AttentionBias ? "it has attention or MLP biases"
            : null;
        if (problem is not null)
        {
            throw new LlamaMoeException(ExportErrorCodes.QwenNotExpressible, $"the model cannot be exported as qwen2-moe: {problem}", key: "format", advice: "Export to native.");
        }
    }

    private static bool IsSharedExpertGate(string name) => name.EndsWith(".mlp.shared_expert_gate.weight", StringComparison.Ordinal);

    private static (string Name, double Factor) ToQwenName(string name)
    {
        const string block = ".block_sparse_moe.";
        var at = name.IndexOf(block, StringComparison.Ordinal);
        if (at < 0)
        {
            return (name, 1.0);
        }

        var prefix = name[..at] + ".mlp.";
        var rest = name[(at + block.Length)..];
        if (rest == "gate.weight")
        {
            return (prefix + "gate.weight", 1.0);
        }

        var residual = rest.StartsWith("mlp_residual.", StringComparison.Ordinal);
        var w = rest[^9..^7]; // "w1" of "...w1.weight"
        var projection = w switch { "w1" => "gate_proj", "w3" => "up_proj", _ => "down_proj" };
        return residual
            ? (prefix + "shared_expert." + projection + ".weight", w == "w2" ? 2.0 : 1.0)
            : (prefix + rest[..^9] + projection + ".weight", 1.0);
    }

    private static (string Name, double Factor) ToNativeName(string name)
    {
        const string mlp = ".mlp.";
        var at = name.IndexOf(mlp, StringComparison.Ordinal);
        if (at < 0)
        {
            return (name, 1.0);
        }

        var prefix = name[..at] + ".block_sparse_moe.";
        var rest = name[(at + mlp.Length)..];
        static string W(string projection) => projection switch { "gate_proj" => "w1", "up_proj" => "w3", _ => "w2" };
        if (rest == "gate.weight")
        {
            return (prefix + "gate.weight", 1.0);
        }

        if (rest.StartsWith("shared_expert.", StringComparison.Ordinal))
        {
            var projection = rest["shared_expert.".Length..^".weight".Length];
            return (prefix + "mlp_residual." + W(projection) + ".weight", projection == "down_proj" ? 0.5 : 1.0);
        }

        if (rest.StartsWith("experts.", StringComparison.Ordinal))
        {
            var dot = rest.LastIndexOf('.', rest.Length - ".weight".Length - 1);
            return (prefix + rest[..(dot + 1)] + W(rest[(dot + 1)..^".weight".Length]) + ".weight", 1.0);
        }

        return (name, 1.0); // a dense layer's mlp.gate_proj/up_proj/down_proj keeps its name
    }
}
