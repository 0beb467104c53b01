using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.Export;

/// <summary>Typed access to the MoE keys of a config.json object, with LMOE1220 errors naming the key and file.</summary>
internal sealed class MoeJson(IReadOnlyDictionary<string, JsonNode?> values, string? filePath)
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public bool Has(string key) => values.TryGetValue(key, out var v) && v is not null;

    public JsonNode? Node(string key) => values.TryGetValue(key, out var v) ? v : null;

    public int Int(string key, int? fallback = null) =>
        Node(key) is JsonValue v && v.TryGetValue<int>(out var i) ? i
        : !Has(key) && fallback is { } f ? f
        : throw Bad(key, "must be an integer");

    public double Double(string key, double? fallback = null) =>
        Node(key) is JsonValue v && v.TryGetValue<double>(out var d) ? d
        : !Has(key) && fallback is { } f ? f
        : throw Bad(key, "must be a number");

    public bool Bool(string key, bool fallback) =>
        !Has(key) ? fallback : Node(key) is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw Bad(key, "must be true or false");

    public string? String(string key) =>
        !Has(key) ? null : Node(key) is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Bad(key, "must be a string");

    public int[] IntArray(string key) =>
        Node(key) is JsonArray a ? a.Select(n => n is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw Bad(key, "must be a list of integers")).ToArray()
        : throw Bad(key, "must be a list of integers");

    public LlamaMoeException Bad(string key, string problem) =>
        new(ExportErrorCodes.MoeConfigInvalid, $"config key '{key}' {problem}", filePath, key, "Fix the MoE keys of config.json.");

    /// <summary>Reads config.json with the given extension keys and model types; returns the base config (model_type llama, extension keys removed) and the extension values.</summary>
    public static (LlamaConfig Base, MoeJson Moe) ReadConfig(string directory, IReadOnlySet<string> extensionKeys, string modelType, Func<LlamaConfig, LlamaConfig>? adjust = null)
    {
        var path = Path.Combine(directory, ModelDirectory.ConfigFileName);
        var config = LlamaConfigJson.Read(path, extensionKeys, new HashSet<string>(StringComparer.Ordinal) { modelType });
        var moe = config.ExtraProperties.Where(p => extensionKeys.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var rest = config.ExtraProperties.Where(p => !extensionKeys.Contains(p.Key) && p.Key != "architectures" && p.Key != "auto_map")
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var baseConfig = config with { ModelType = "llama", ExtraProperties = rest };
        return (adjust?.Invoke(baseConfig) ?? baseConfig, new MoeJson(moe, path));
    }

    /// <summary>The base config's JSON with a new model_type and architectures, ready for extension keys.</summary>
    public static JsonObject BaseJson(LlamaConfig baseConfig, string modelType, string architecture)
    {
        var root = LlamaConfigJson.ToJsonObject(baseConfig with { ModelType = modelType });
        root["architectures"] = new JsonArray(architecture);
        return root;
    }

    /// <summary>Writes config.json atomically.</summary>
    public static void Write(JsonObject root, string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, ModelDirectory.ConfigFileName), root.ToJsonString(Indented) + "\n");
}
