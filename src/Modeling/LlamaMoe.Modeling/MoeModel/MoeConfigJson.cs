using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>
/// The one reader/writer of MoE config.json files. Native: maps <see cref="MoeConfig"/> to and from a
/// <see cref="LlamaConfig"/> whose extra properties hold the MoE keys. Converted formats (Mixtral, LLaMA-MoE v1/v2):
/// splits a config.json into the dense LLaMA part and the format's extension keys, and writes one back.
/// </summary>
internal static class MoeConfigJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static LlamaConfig ToLlamaConfig(MoeConfig moe)
    {
        var extras = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in moe.Dense.ExtraProperties)
        {
            if (key != "architectures" && !MoeConfig.MoeKeys.Contains(key))
            {
                extras[key] = value?.DeepClone();
            }
        }

        extras["architectures"] = new JsonArray(MoeConfig.Architecture);
        extras["num_local_experts"] = moe.ExpertCount;
        extras["num_experts_per_tok"] = moe.TopK;
        extras["moe_layers"] = new JsonArray(moe.MoeLayers.Select(l => (JsonNode?)l).ToArray());
        extras["expert_sizes"] = new JsonArray(moe.ExpertSizes.Select(sizes => (JsonNode?)new JsonArray(sizes.Select(s => (JsonNode?)s).ToArray())).ToArray());
        extras["intermediate_size_residual"] = moe.ResidualSize;
        extras["scale_factor"] = moe.ScaleFactors.Distinct().Count() == 1
            ? JsonValue.Create(moe.ScaleFactors[0])
            : new JsonArray(moe.ScaleFactors.Select(s => (JsonNode?)s).ToArray());
        extras["router"] = moe.Router.ToJson();
        extras["attention_moe"] = moe.AttentionMoe?.DeepClone();
        extras["llamamoe_format_version"] = MoeConfig.CurrentFormatVersion;
        return moe.Dense with { ModelType = MoeConfig.ModelType, ExtraProperties = extras };
    }

    public static MoeConfig FromLlamaConfig(LlamaConfig config, string? filePath)
    {
        if (config.ModelType != MoeConfig.ModelType)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.UnknownModelFormat, $"model_type is '{config.ModelType}', not '{MoeConfig.ModelType}'", filePath, "model_type",
                "Load dense models with LlamaForCausalLM.FromDirectory, or use CausalLanguageModelLoader.");
        }

        var (dense, keys) = Split(config, MoeConfig.MoeKeys, ["architectures"], ConfigKeyReader.Native, filePath);
        var version = keys.Int("llamamoe_format_version");
        if (version != MoeConfig.CurrentFormatVersion)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.UnsupportedFormatVersion, $"llamamoe_format_version {version} is not supported (this build reads {MoeConfig.CurrentFormatVersion})",
                filePath, "llamamoe_format_version", "Convert the model again with this version of llama-moe.");
        }

        var experts = keys.Int("num_local_experts");
        var topK = keys.Int("num_experts_per_tok");
        var layers = keys.IntArray("moe_layers");
        var sizesNode = keys.Required("expert_sizes") as JsonArray ?? throw keys.Wrong("expert_sizes", "a list of lists of integers");
        var sizes = sizesNode.Select((item, i) => (IReadOnlyList<int>)keys.IntArray(item ?? throw keys.Wrong($"expert_sizes[{i}]", "a list of integers"), $"expert_sizes[{i}]")).ToArray();
        var residual = keys.Int("intermediate_size_residual", 0);
        var scales = keys.NumberOrList("scale_factor", layers.Length);
        var router = MoeRouterSpec.FromJson(keys.Required("router"), filePath);
        var attention = keys.Node("attention_moe");
        if (attention is not null and not JsonObject)
        {
            throw keys.Wrong("attention_moe", "null or an object");
        }

        return new MoeConfig
        {
            Dense = dense,
            ExpertCount = experts,
            TopK = topK,
            MoeLayers = layers,
            ExpertSizes = sizes,
            ResidualSize = residual,
            ScaleFactors = scales,
            Router = router,
            AttentionMoe = attention?.DeepClone(),
        }.Validate(filePath);
    }

    /// <summary>
    /// Reads a converted format's config.json (model_type <paramref name="modelType"/>, extension keys
    /// <paramref name="extensionKeys"/>): the dense part (model_type llama, without extension keys, architectures and
    /// auto_map) and the extension keys (errors LMOE1220).
    /// </summary>
    public static (LlamaConfig Dense, ConfigKeyReader Keys) ReadConverted(string directory, IReadOnlySet<string> extensionKeys, string modelType)
    {
        var path = Path.Combine(directory, ModelDirectory.ConfigFileName);
        var config = LlamaConfigJson.Read(path, extensionKeys, new HashSet<string>(StringComparer.Ordinal) { modelType });
        return Split(config, extensionKeys, ["architectures", "auto_map"], ConfigKeyReader.Converted, path);
    }

    /// <summary>The dense config's JSON with <paramref name="modelType"/> and <paramref name="architecture"/>, ready for a converted format's keys.</summary>
    public static JsonObject ConvertedJson(LlamaConfig dense, string modelType, string architecture)
    {
        var root = LlamaConfigJson.ToJsonObject(dense with { ModelType = modelType });
        root["architectures"] = new JsonArray(architecture);
        return root;
    }

    /// <summary>Writes a config.json object atomically into <paramref name="directory"/>.</summary>
    public static void Write(JsonObject root, string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, ModelDirectory.ConfigFileName), root.ToJsonString(Indented) + "\n");

    private static (LlamaConfig Dense, ConfigKeyReader Keys) Split(
        LlamaConfig config, IReadOnlySet<string> extensionKeys, string[] dropped, Func<IReadOnlyDictionary<string, JsonNode?>, string?, string, ConfigKeyReader> reader, string? filePath)
    {
        var extension = config.ExtraProperties.Where(p => extensionKeys.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var rest = config.ExtraProperties.Where(p => !extensionKeys.Contains(p.Key) && !dropped.Contains(p.Key))
            .ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal);
        return (config with { ModelType = "llama", ExtraProperties = rest }, reader(extension, filePath, string.Empty));
    }
}
