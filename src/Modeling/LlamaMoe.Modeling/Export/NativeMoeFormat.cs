using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Reads and writes the native LlamaMoe MoE directory (model_type <c>llamamoe</c>, architectures
/// <c>LlamaMoeForCausalLM</c>, <c>llamamoe_format_version</c> 1): config keys <c>num_local_experts</c>,
/// <c>num_experts_per_tok</c>, <c>moe_layers</c>, <c>expert_sizes</c>, <c>intermediate_size_residual</c>,
/// <c>scale_factor</c>, <c>router</c>, <c>attention_moe</c>; tensors under native names.
/// </summary>
public static class NativeMoeFormat
{
    /// <summary>The native model_type.</summary>
    public const string ModelType = "llamamoe";

    /// <summary>The native config keys beyond the dense LLaMA keys.</summary>
    public static IReadOnlySet<string> ExtensionKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "num_local_experts", "num_experts_per_tok", "moe_layers", "expert_sizes", "intermediate_size_residual", "scale_factor", "router",
        "attention_moe", "llamamoe_format_version",
    };

    /// <summary>Whether <paramref name="directory"/>'s config.json declares model_type llamamoe.</summary>
    public static bool IsNative(string directory) => ConfigModelType(directory) == ModelType;

    /// <summary>The model_type of a directory's config.json, or null when unreadable.</summary>
    public static string? ConfigModelType(string directory)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(directory, ModelDirectory.ConfigFileName)))?["model_type"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Reads a native MoE directory into memory.</summary>
    public static MoeCheckpoint Read(string directory)
    {
        var (baseConfig, moe) = MoeJson.ReadConfig(directory, ExtensionKeys, ModelType);
        if (moe.Int("llamamoe_format_version", 1) != 1)
        {
            throw moe.Bad("llamamoe_format_version", "must be 1");
        }

        var experts = moe.Int("num_local_experts");
        var moeLayers = moe.IntArray("moe_layers");
        var sizes = moe.Node("expert_sizes") is JsonArray outer
            ? outer.Select(inner => inner is JsonArray a ? (IReadOnlyList<int>)a.Select(n => n is JsonValue v && v.TryGetValue<int>(out var m) ? m : throw moe.Bad("expert_sizes", "must hold integer lists")).ToArray()
                : throw moe.Bad("expert_sizes", "must be a list of lists")).ToArray()
            : throw moe.Bad("expert_sizes", "must be a list of lists, one per MoE layer");
        var scales = moe.Node("scale_factor") is JsonArray list
            ? list.Select(n => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw moe.Bad("scale_factor", "must hold numbers")).ToArray()
            : Enumerable.Repeat(moe.Double("scale_factor", 1.0), moeLayers.Length).ToArray();
        var router = moe.Node("router") as JsonObject;
        var routerJson = new MoeJson(router?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, JsonNode?>(), Path.Combine(directory, ModelDirectory.ConfigFileName));
        var network = routerJson.String("network") switch
        {
            null or "linear" => RouterNetwork.Linear,
            "tanh_mlp" => RouterNetwork.TanhMlp,
            var other => throw moe.Bad("router", $"has the unknown network '{other}' (linear or tanh_mlp)"),
        };
        var weights = routerJson.String("weights") switch
        {
            null or "softmax_renormalized" => RoutingWeights.SoftmaxRenormalized,
            "softmax" => RoutingWeights.Softmax,
            "softmax_over_topk" => RoutingWeights.SoftmaxOverTopK,
            "unit" => RoutingWeights.Unit,
            var other => throw moe.Bad("router", $"has the unknown weights '{other}'"),
        };
        var layout = new MoeLayout(experts, moe.Int("num_experts_per_tok"), moeLayers, sizes, moe.Int("intermediate_size_residual", 0), scales, network, weights,
            routerJson.Bool("noisy", false), moe.Node("attention_moe") as JsonObject).Validate(baseConfig.NumHiddenLayers, Path.Combine(directory, ModelDirectory.ConfigFileName));
        return new MoeCheckpoint(baseConfig, layout, CheckpointTensors.ReadAll(directory));
    }

    /// <summary>Writes <paramref name="checkpoint"/> as a native directory; tokenizer files and generation_config.json are copied from <paramref name="companionSource"/> when given.</summary>
    public static void Write(MoeCheckpoint checkpoint, string directory, string? companionSource = null, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        ModelDirectory.SaveWeights(directory, checkpoint.Tensors, maxShardBytes);
        var root = MoeJson.BaseJson(checkpoint.Base, ModelType, "LlamaMoeForCausalLM");
        var layout = checkpoint.Layout;
        root["num_local_experts"] = layout.ExpertCount;
        root["num_experts_per_tok"] = layout.TopK;
        root["moe_layers"] = new JsonArray(layout.MoeLayers.Select(l => (JsonNode?)l).ToArray());
        root["expert_sizes"] = new JsonArray(layout.ExpertSizes.Select(s => (JsonNode?)new JsonArray(s.Select(m => (JsonNode?)m).ToArray())).ToArray());
        root["intermediate_size_residual"] = layout.ResidualSize;
        root["scale_factor"] = layout.ScaleFactors.Distinct().Count() <= 1 ? JsonValue.Create(layout.ScaleFactors.FirstOrDefault(1.0))
            : new JsonArray(layout.ScaleFactors.Select(s => (JsonNode?)s).ToArray());
        root["router"] = new JsonObject { ["network"] = MoeLayout.NetworkName(layout.Router), ["weights"] = MoeLayout.WeightsName(layout.Weights), ["noisy"] = layout.Noisy };
        root["attention_moe"] = layout.AttentionMoe?.DeepClone();
        root["llamamoe_format_version"] = 1;
        MoeJson.Write(root, directory);
        FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>Copies companion files (or writes generation_config.json) into an exported directory.</summary>
    internal static void FinishDirectory(MoeCheckpoint checkpoint, string directory, string? companionSource)
    {
        if (companionSource is not null)
        {
            ModelDirectory.CopyCompanionFiles(companionSource, directory);
        }

        if (!File.Exists(Path.Combine(directory, ModelDirectory.GenerationConfigFileName)))
        {
            ModelDirectory.WriteGenerationConfig(directory, checkpoint.Base.BosTokenId, checkpoint.Base.EosTokenIds);
        }
    }
}
