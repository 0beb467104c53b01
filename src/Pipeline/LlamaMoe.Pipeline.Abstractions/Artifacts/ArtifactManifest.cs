using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaMoe.Pipeline;

/// <summary>
/// The small manifest at the root of every artifact folder, <c>artifact.json</c>:
/// <code>
/// { "format": "llamamoe-artifact/1", "kind": "expert-partition",
///   "producer": { "plugin": "split-mlp/magnitude", "version": "1" },
///   "outputs": { "experts": "4" },
///   "files": { "partition.json": "sha256:..." },
///   "digest": "sha256:..." }
/// </code>
/// <c>digest</c> hashes kind, outputs and files (not the producer, nor the <c>device</c> a step reported), so equal
/// content gives equal digests.
/// </summary>
public sealed record ArtifactManifest
{
    /// <summary>The manifest file name.</summary>
    public const string FileName = "artifact.json";

    /// <summary>The format tag.</summary>
    public const string CurrentFormat = "llamamoe-artifact/1";

    /// <summary>The format tag.</summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The artifact kind.</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    /// <summary>The plugin that wrote it.</summary>
    [JsonPropertyName("producer")]
    public required ArtifactProducer Producer { get; init; }

    /// <summary>What the step computed on (<see cref="IStepContext.ReportDevice"/>); null for steps without tensor work. Not part of the digest.</summary>
    [JsonPropertyName("device")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Device { get; init; }

    /// <summary>Named string outputs.</summary>
    [JsonPropertyName("outputs")]
    public SortedDictionary<string, string> Outputs { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Relative path (forward slashes) to file digest.</summary>
    [JsonPropertyName("files")]
    public SortedDictionary<string, string> Files { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The content digest.</summary>
    [JsonPropertyName("digest")]
    public required string Digest { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Reads <c>artifact.json</c> from an artifact folder.</summary>
    public static ArtifactManifest Read(string artifactDirectory)
    {
        var path = Path.Combine(artifactDirectory, FileName);
        try
        {
            return JsonSerializer.Deserialize<ArtifactManifest>(File.ReadAllText(path), JsonOptions)
                ?? throw new JsonException("empty manifest");
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ContractErrorCodes.ArtifactManifestUnreadable, $"the artifact manifest cannot be read: {ex.Message}", path,
                advice: "Delete the artifact folder (or run 'llama-moe gc') and run the pipeline again.", inner: ex);
        }
    }

    /// <summary>Serialises the manifest.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The artifact as an input handle.</summary>
    public ArtifactHandle ToHandle(string stageId, string directory) => new(stageId, Kind, directory, Digest, Outputs);
}

/// <summary>Who wrote an artifact.</summary>
/// <param name="Plugin">The YAML name of the step.</param>
/// <param name="Version">The step version.</param>
public sealed record ArtifactProducer(
    [property: JsonPropertyName("plugin")] string Plugin,
    [property: JsonPropertyName("version")] string Version);
