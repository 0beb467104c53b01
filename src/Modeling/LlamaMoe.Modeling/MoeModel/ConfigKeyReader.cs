using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>
/// Typed reads of the MoE keys of a config.json (native <c>llamamoe</c>, Mixtral, LLaMA-MoE v1/v2). A missing or
/// wrongly typed value is one coded error naming the key and the file: LMOE2201 for the native format
/// (<see cref="Native"/>), LMOE1220 for the converted formats (<see cref="Converted"/>). A key holding JSON null counts as absent.
/// </summary>
internal sealed class ConfigKeyReader(IReadOnlyDictionary<string, JsonNode?> values, string? filePath, string errorCode, string advice, string prefix = "")
{
    /// <summary>The file the keys come from, for error messages.</summary>
    public string? FilePath => filePath;

    /// <summary>Keys of a native config (errors LMOE2201).</summary>
    public static ConfigKeyReader Native(IReadOnlyDictionary<string, JsonNode?> values, string? filePath, string prefix = "") =>
        new(values, filePath, ConstructionErrorCodes.InvalidMoeKey, "Fix the key in config.json (see the native MoE format in docs).", prefix);

    /// <summary>Keys of a Mixtral or LLaMA-MoE v1/v2 config (errors LMOE1220).</summary>
    public static ConfigKeyReader Converted(IReadOnlyDictionary<string, JsonNode?> values, string? filePath, string prefix = "") =>
        new(values, filePath, Formats.ExportErrorCodes.MoeConfigInvalid, "Fix the MoE keys of config.json.", prefix);

    /// <summary>Whether <paramref name="key"/> is present and not null.</summary>
    public bool Has(string key) => values.TryGetValue(key, out var node) && node is not null;

    /// <summary>The raw value of <paramref name="key"/>, or null.</summary>
    public JsonNode? Node(string key) => values.TryGetValue(key, out var node) ? node : null;

    /// <summary>The raw value of <paramref name="key"/>; an error when absent or null.</summary>
    public JsonNode Required(string key) => Node(key) ?? throw Wrong(key, "present (not null)");

    /// <summary>An integer key; <paramref name="fallback"/> when absent (an error when there is none).</summary>
    public int Int(string key, int? fallback = null) =>
        Node(key) is { } node ? Int(node, key) : fallback ?? throw Wrong(key, "present (not null)");

    /// <summary>A finite-number key; <paramref name="fallback"/> when absent (an error when there is none).</summary>
    public double Number(string key, double? fallback = null) =>
        Node(key) is { } node ? Number(node, key) : fallback ?? throw Wrong(key, "present (not null)");

    /// <summary>A boolean key; <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback) =>
        Node(key) switch
        {
            null => fallback,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Wrong(key, "true or false"),
        };

    /// <summary>A string key, or null when absent.</summary>
    public string? String(string key) =>
        Node(key) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => throw Wrong(key, "a string"),
        };

    /// <summary>A required list of integers.</summary>
    public int[] IntArray(string key) => IntArray(Required(key), key);

    /// <summary>An integer (a JSON number with an integral value).</summary>
    public int Int(JsonNode node, string key) =>
        JsonNumbers.Integer(node) ?? throw Wrong(key, "an integer");

    /// <summary>A finite number.</summary>
    public double Number(JsonNode node, string key) =>
        JsonNumbers.Number(node) is { } d && double.IsFinite(d) ? d : throw Wrong(key, "a finite number");

    /// <summary>A list of integers (errors name <c>key[i]</c>).</summary>
    public int[] IntArray(JsonNode node, string key) =>
        node is JsonArray array
            ? array.Select((item, i) => item is null ? throw Wrong($"{key}[{i}]", "an integer") : Int(item, $"{key}[{i}]")).ToArray()
            : throw Wrong(key, "a list of integers");

    /// <summary>A number, or a list of numbers; a single number is repeated <paramref name="count"/> times.</summary>
    public double[] NumberOrList(string key, int count, double? fallback = null) =>
        Node(key) is JsonArray array
            ? array.Select((item, i) => item is null ? throw Wrong($"{key}[{i}]", "a number") : Number(item, $"{key}[{i}]")).ToArray()
            : Enumerable.Repeat(Number(key, fallback), count).ToArray();

    /// <summary>The error for a value that is not <paramref name="expected"/>.</summary>
    public LlamaMoeException Wrong(string key, string expected) => Error(key, $"must be {expected}");

    /// <summary>The error for <paramref name="key"/> with a free-form <paramref name="problem"/>.</summary>
    public LlamaMoeException Error(string key, string problem) =>
        new(errorCode, $"config key '{prefix}{key}' {problem}", filePath, prefix + key, advice);

    /// <summary>
    /// Validates <paramref name="config"/> (built from these keys); a contradiction (LMOE2202) is reported with this reader's
    /// code when that differs (LMOE1220 for converted formats).
    /// </summary>
    public MoeConfig Validated(MoeConfig config)
    {
        try
        {
            return config.Validate(filePath);
        }
        catch (LlamaMoeException error) when (error.Code == ConstructionErrorCodes.MoeContradiction && errorCode != ConstructionErrorCodes.InvalidMoeKey)
        {
            throw new LlamaMoeException(errorCode, error.Message, filePath, error.Key, advice, inner: error);
        }
    }
}
