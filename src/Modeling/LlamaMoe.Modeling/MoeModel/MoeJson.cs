using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>Typed reads of MoE config keys; every wrong type is LMOE2201 naming the key.</summary>
internal static class MoeJson
{
    public static JsonNode Required(JsonObject obj, string key, string? filePath, string prefix = "") =>
        obj.TryGetPropertyValue(key, out var node) && node is not null
            ? node
            : throw Wrong(prefix + key, "present (not null)", filePath);

    public static int Int(JsonNode node, string key, string? filePath)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var d)
            && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue)
        {
            return (int)d;
        }

        throw Wrong(key, "an integer", filePath);
    }

    public static double Number(JsonNode node, string key, string? filePath) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var d) && double.IsFinite(d)
            ? d
            : throw Wrong(key, "a finite number", filePath);

    public static int[] IntArray(JsonNode node, string key, string? filePath) =>
        node is JsonArray array
            ? array.Select((item, i) => item is null ? throw Wrong($"{key}[{i}]", "an integer", filePath) : Int(item, $"{key}[{i}]", filePath)).ToArray()
            : throw Wrong(key, "a list of integers", filePath);

    public static string String(JsonObject obj, string key, string defaultValue, string? filePath, string prefix = "")
    {
        if (!obj.TryGetPropertyValue(key, out var node))
        {
            return defaultValue;
        }

        return node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : throw Wrong(prefix + key, "a string", filePath);
    }

    public static bool Bool(JsonObject obj, string key, bool defaultValue, string? filePath, string prefix = "")
    {
        if (!obj.TryGetPropertyValue(key, out var node))
        {
            return defaultValue;
        }

        return node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? value.GetValue<bool>() : throw Wrong(prefix + key, "true or false", filePath);
    }

    public static LlamaMoeException Wrong(string key, string expected, string? filePath) =>
        new(ConstructionErrorCodes.InvalidMoeKey, $"MoE config key '{key}' must be {expected}", filePath, key,
            "Fix the key in config.json (see the native MoE format in docs).");

    public static LlamaMoeException Contradiction(string message, string key, string? filePath) =>
        new(ConstructionErrorCodes.MoeContradiction, message, filePath, key, "Make the MoE keys consistent with each other and with num_hidden_layers.");
}
