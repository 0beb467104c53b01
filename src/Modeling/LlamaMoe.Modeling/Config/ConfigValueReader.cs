using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Modeling.Config;

/// <summary>
/// Typed access to the keys of a config JSON object; every wrong type is a coded LMOE2004 error naming the key.
/// Public so extension configs (MoE) read their keys with the same rules.
/// </summary>
public sealed class ConfigValueReader(JsonObject root, string? filePath)
{
    /// <summary>An integer key, or the default when absent.</summary>
    public int Int(string key, int defaultValue) => OptionalInt(key) ?? defaultValue;

    /// <summary>An integer key, or <paramref name="defaultValue"/> when absent; JSON null gives null.</summary>
    public int? OptionalInt(string key, int? defaultValue = null)
    {
        if (!root.TryGetPropertyValue(key, out var node))
        {
            return defaultValue;
        }

        return node is null ? null : AsInt(node, key);
    }

    /// <summary>One integer or a list of integers (as <c>eos_token_id</c> may be).</summary>
    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> defaultValue)
    {
        if (!root.TryGetPropertyValue(key, out var node))
        {
            return defaultValue;
        }

        return node switch
        {
            null => [],
            JsonArray array => array.Select(item => item is null ? throw Wrong(key, "a list of integers") : AsInt(item, key)).ToArray(),
            _ => [AsInt(node, key)],
        };
    }

    /// <summary>A number key, or the default.</summary>
    public double Double(string key, double defaultValue)
    {
        if (!root.TryGetPropertyValue(key, out var node) || node is null)
        {
            return defaultValue;
        }

        return JsonNumbers.Number(node) ?? throw Wrong(key, "a number");
    }

    /// <summary>A boolean key, or the default.</summary>
    public bool Bool(string key, bool defaultValue)
    {
        if (!root.TryGetPropertyValue(key, out var node) || node is null)
        {
            return defaultValue;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, "true or false"),
        };
    }

    /// <summary>A string key, or the default.</summary>
    public string String(string key, string defaultValue)
    {
        if (!root.TryGetPropertyValue(key, out var node) || node is null)
        {
            return defaultValue;
        }

        return node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw Wrong(key, "a string");
    }

    /// <summary>The <c>rope_scaling</c> object, or null.</summary>
    public RopeScaling? RopeScaling(string key)
    {
        if (!root.TryGetPropertyValue(key, out var node) || node is null)
        {
            return null;
        }

        if (node is not JsonObject o)
        {
            throw Wrong(key, "an object");
        }

        var inner = new ConfigValueReader(o, filePath);
        var known = new HashSet<string>(StringComparer.Ordinal) { "rope_type", "type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings" };
        foreach (var (name, _) in o)
        {
            if (!known.Contains(name))
            {
                throw new LlamaMoeException(ConfigErrorCodes.UnknownKey, $"rope_scaling has the unknown key '{name}'", filePath, key + "." + name, "Remove the key.");
            }
        }

        var typeA = inner.String("rope_type", string.Empty);
        var typeB = inner.String("type", string.Empty);
        if (typeA.Length > 0 && typeB.Length > 0 && typeA != typeB)
        {
            throw new LlamaMoeException(ConfigErrorCodes.Contradiction, $"rope_scaling has rope_type '{typeA}' and type '{typeB}'", filePath, key);
        }

        var type = typeA.Length > 0 ? typeA : typeB;
        if (type is not (Config.RopeScaling.Linear or Config.RopeScaling.Dynamic or Config.RopeScaling.Llama3))
        {
            throw new LlamaMoeException(ConfigErrorCodes.Unsupported, $"rope_scaling type '{type}' is not supported", filePath, key + ".rope_type", "Use linear, dynamic or llama3.");
        }

        if (!o.ContainsKey("factor"))
        {
            throw new LlamaMoeException(ConfigErrorCodes.InvalidValue, "rope_scaling needs a factor", filePath, key + ".factor");
        }

        return new RopeScaling(
            type,
            inner.Double("factor", 1.0),
            o.ContainsKey("low_freq_factor") ? inner.Double("low_freq_factor", 0) : null,
            o.ContainsKey("high_freq_factor") ? inner.Double("high_freq_factor", 0) : null,
            inner.OptionalInt("original_max_position_embeddings"));
    }

    private int AsInt(JsonNode node, string key) => JsonNumbers.Integer(node) ?? throw Wrong(key, "an integer");

    private LlamaMoeException Wrong(string key, string expected) =>
        new(ConfigErrorCodes.InvalidValue, $"config key '{key}' must be {expected}", filePath, key, "Fix the value in config.json.");
}
