using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// Reads and writes the <c>attention_moe</c> object of a native config.json:
/// <c>{ "num_experts": n, "top_k": k, "scale_factor": s, "split": f, "layers": [ints] }</c>, plus an optional
/// <c>"weights"</c> (<c>softmax_renormalized</c> default, <c>softmax</c>, <c>softmax_over_topk</c>, <c>unit</c>) written only
/// when not the default. JSON <c>null</c> or an absent key means "no attention-MoE". Malformed objects raise LMOE2303.
/// </summary>
public static class AttentionMoeOptionsJson
{
    /// <summary>The config.json key.</summary>
    public const string ConfigKey = "attention_moe";

    private static readonly string[] RequiredKeys = ["num_experts", "top_k", "scale_factor", "split", "layers"];

    /// <summary>Parses an <c>attention_moe</c> value; null for JSON null. Ranges are validated (LMOE2301), not the fit to a model.</summary>
    /// <param name="node">The value of the <c>attention_moe</c> key.</param>
    /// <param name="filePath">The config file, for error locations.</param>
    public static AttentionMoeOptions? Read(JsonNode? node, string? filePath = null)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonObject obj)
        {
            throw Malformed(ConfigKey, "attention_moe must be an object or null.", filePath);
        }

        foreach (var (key, _) in obj)
        {
            if (!RequiredKeys.Contains(key) && key != "weights")
            {
                throw Malformed($"{ConfigKey}.{key}", $"Unknown key '{key}' in attention_moe.", filePath);
            }
        }

        var options = new AttentionMoeOptions(
            Int(obj, "num_experts", filePath),
            Int(obj, "top_k", filePath),
            Number(obj, "scale_factor", filePath),
            Int(obj, "split", filePath),
            Layers(obj, filePath),
            obj.ContainsKey("weights") ? ParseWeights(obj["weights"], filePath) : RoutingWeights.SoftmaxRenormalized);
        return options.Validate(filePath: filePath);
    }

    /// <summary>The options of <paramref name="config"/> (from its <c>attention_moe</c> extra key), validated against it; null when absent or null.</summary>
    public static AttentionMoeOptions? FromConfig(LlamaConfig config, string? filePath = null) =>
        config.ExtraProperties.TryGetValue(ConfigKey, out var node) ? Read(node, filePath)?.Validate(config, filePath) : null;

    /// <summary>The JSON object for <paramref name="options"/> (JSON null when null).</summary>
    public static JsonNode? Write(AttentionMoeOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        var obj = new JsonObject
        {
            ["num_experts"] = options.NumExperts,
            ["top_k"] = options.TopK,
            ["scale_factor"] = options.ScaleFactor,
            ["split"] = options.Split,
            ["layers"] = new JsonArray(options.Layers.Select(layer => (JsonNode?)JsonValue.Create(layer)).ToArray()),
        };
        if (options.Weights != RoutingWeights.SoftmaxRenormalized)
        {
            obj["weights"] = WeightsName(options.Weights);
        }

        return obj;
    }

    /// <summary><paramref name="config"/> with its <c>attention_moe</c> key set to <paramref name="options"/> (JSON null when null).</summary>
    public static LlamaConfig WithOptions(LlamaConfig config, AttentionMoeOptions? options)
    {
        var extras = new Dictionary<string, JsonNode?>(config.ExtraProperties) { [ConfigKey] = Write(options) };
        return config with { ExtraProperties = extras };
    }

    /// <summary>The config name of a routing-weight mode.</summary>
    public static string WeightsName(RoutingWeights weights) => weights switch
    {
        RoutingWeights.SoftmaxRenormalized => "softmax_renormalized",
        RoutingWeights.Softmax => "softmax",
        RoutingWeights.SoftmaxOverTopK => "softmax_over_topk",
        RoutingWeights.Unit => "unit",
        _ => throw new ArgumentOutOfRangeException(nameof(weights), weights, "Unknown routing-weight mode."),
    };

    private static RoutingWeights ParseWeights(JsonNode? node, string? filePath)
    {
        var name = node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        foreach (var mode in Enum.GetValues<RoutingWeights>())
        {
            if (WeightsName(mode) == name)
            {
                return mode;
            }
        }

        throw Malformed($"{ConfigKey}.weights", "attention_moe.weights must be softmax_renormalized, softmax, softmax_over_topk or unit.", filePath);
    }

    private static int Int(JsonObject obj, string key, string? filePath)
    {
        var node = Required(obj, key, filePath);
        if (JsonNumbers.Integer(node) is { } integer)
        {
            return integer;
        }

        throw Malformed($"{ConfigKey}.{key}", $"attention_moe.{key} must be an integer.", filePath);
    }

    private static double Number(JsonObject obj, string key, string? filePath)
    {
        var node = Required(obj, key, filePath);
        if (JsonNumbers.Number(node) is { } number)
        {
            return number;
        }

        throw Malformed($"{ConfigKey}.{key}", $"attention_moe.{key} must be a number.", filePath);
    }

    private static int[] Layers(JsonObject obj, string? filePath)
    {
        if (Required(obj, "layers", filePath) is not JsonArray array)
        {
            throw Malformed($"{ConfigKey}.layers", "attention_moe.layers must be an array of integers.", filePath);
        }

        return array.Select(item => JsonNumbers.Integer(item) is { } number && number >= 0
            ? number
            : throw Malformed($"{ConfigKey}.layers", "attention_moe.layers must be an array of non-negative integers.", filePath)).ToArray();
    }

    private static JsonNode Required(JsonObject obj, string key, string? filePath) =>
        obj.TryGetPropertyValue(key, out var node) && node is not null
            ? node
            : throw Malformed($"{ConfigKey}.{key}", $"attention_moe lacks '{key}' (or it is null).", filePath);

    private static LlamaMoeException Malformed(string key, string message, string? filePath) =>
        AttentionMoeErrors.Create(AttentionMoeErrors.MalformedConfig, message, key, "attention_moe needs num_experts, top_k, scale_factor, split and layers (optionally weights), nothing else.", filePath);
}
