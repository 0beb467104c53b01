using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// Everything a stage's result depends on: plugin name and version, canonical options, the content digests of the
/// needed stages' artifacts and of input files named by path options, the device kind and the seed. Never timestamps.
/// </summary>
public sealed record StageKeyInputs
{
    /// <summary>Bump when the key's composition changes.</summary>
    public const int EngineKeyVersion = 1;

    /// <summary>The plugin name.</summary>
    [JsonPropertyName("plugin")]
    public required string Plugin { get; init; }

    /// <summary>The plugin version.</summary>
    [JsonPropertyName("version")]
    public required string Version { get; init; }

    /// <summary>Canonical options JSON.</summary>
    [JsonPropertyName("options")]
    public required string Options { get; init; }

    /// <summary>A digest of the secret values in the options (which <see cref="Options"/> shows redacted), or null when there are none.</summary>
    [JsonPropertyName("secrets")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secrets { get; init; }

    /// <summary>Needed stage id → artifact digest.</summary>
    [JsonPropertyName("artifacts")]
    public required SortedDictionary<string, string> Artifacts { get; init; }

    /// <summary>Input path option key → content digest.</summary>
    [JsonPropertyName("files")]
    public required SortedDictionary<string, string> Files { get; init; }

    /// <summary>The device kind.</summary>
    [JsonPropertyName("device")]
    public required string Device { get; init; }

    /// <summary>The seed.</summary>
    [JsonPropertyName("seed")]
    public required int Seed { get; init; }

    /// <summary>The SHA-256 stage key.</summary>
    public string ComputeKey() => FileDigests.OfText($"engine-key/{EngineKeyVersion}\n" + JsonSerializer.Serialize(this));
}
