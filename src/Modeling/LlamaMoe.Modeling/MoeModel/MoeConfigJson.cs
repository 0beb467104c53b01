using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>Maps <see cref="MoeConfig"/> to and from a <see cref="LlamaConfig"/> whose extra properties hold the MoE keys.</summary>
internal static class MoeConfigJson
{
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

        var root = new JsonObject();
        foreach (var (key, value) in config.ExtraProperties)
        {
            root[key] = value?.DeepClone();
        }

        var version = MoeJson.Int(MoeJson.Required(root, "llamamoe_format_version", filePath), "llamamoe_format_version", filePath);
        if (version != MoeConfig.CurrentFormatVersion)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.UnsupportedFormatVersion, $"llamamoe_format_version {version} is not supported (this build reads {MoeConfig.CurrentFormatVersion})",
                filePath, "llamamoe_format_version", "Convert the model again with this version of llama-moe.");
        }

        var experts = MoeJson.Int(MoeJson.Required(root, "num_local_experts", filePath), "num_local_experts", filePath);
        var topK = MoeJson.Int(MoeJson.Required(root, "num_experts_per_tok", filePath), "num_experts_per_tok", filePath);
        var layers = MoeJson.IntArray(MoeJson.Required(root, "moe_layers", filePath), "moe_layers", filePath);
        var sizesNode = MoeJson.Required(root, "expert_sizes", filePath) as JsonArray ?? throw MoeJson.Wrong("expert_sizes", "a list of lists of integers", filePath);
        var sizes = sizesNode.Select((item, i) => (IReadOnlyList<int>)MoeJson.IntArray(item ?? throw MoeJson.Wrong($"expert_sizes[{i}]", "a list of integers", filePath), $"expert_sizes[{i}]", filePath)).ToArray();
        var residual = root.TryGetPropertyValue("intermediate_size_residual", out var residualNode) && residualNode is not null
            ? MoeJson.Int(residualNode, "intermediate_size_residual", filePath)
            : 0;
        var scaleNode = MoeJson.Required(root, "scale_factor", filePath);
        var scales = scaleNode is JsonArray scaleArray
            ? scaleArray.Select((item, i) => MoeJson.Number(item ?? throw MoeJson.Wrong($"scale_factor[{i}]", "a number", filePath), $"scale_factor[{i}]", filePath)).ToArray()
            : Enumerable.Repeat(MoeJson.Number(scaleNode, "scale_factor", filePath), layers.Length).ToArray();
        var router = MoeRouterSpec.FromJson(MoeJson.Required(root, "router", filePath), filePath);
        root.TryGetPropertyValue("attention_moe", out var attention);
        if (attention is not null and not JsonObject)
        {
            throw MoeJson.Wrong("attention_moe", "null or an object", filePath);
        }

        var denseExtras = config.ExtraProperties
            .Where(p => p.Key != "architectures" && !MoeConfig.MoeKeys.Contains(p.Key))
            .ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal);
        return new MoeConfig
        {
            Dense = config with { ModelType = "llama", ExtraProperties = denseExtras },
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
}
