using System.Text.Json;
using System.Text.Json.Serialization;
using LlamaMoe.Pipeline.Diagnostics;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// <c>NAME.lock.json</c> beside the pipeline: per stage the key, what went into it and the output digest. Written
/// atomically after every stage, so an interrupted run keeps what finished. <c>plan</c> compares against it.
/// </summary>
public sealed class LockFile
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The pipeline name.</summary>
    [JsonPropertyName("pipeline")]
    public string Pipeline { get; set; } = string.Empty;

    /// <summary>The stages by id.</summary>
    [JsonPropertyName("stages")]
    public SortedDictionary<string, StageRecord> Stages { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Reads the lock file, or an empty one when it does not exist.</summary>
    public static LockFile Read(string path)
    {
        if (!File.Exists(path))
        {
            return new LockFile();
        }

        try
        {
            return JsonSerializer.Deserialize<LockFile>(File.ReadAllText(path), JsonOptions) ?? new LockFile();
        }
        catch (JsonException ex)
        {
            throw new LlamaMoeException(DiagnosticCodes.LockFileCorrupt, $"the lock file cannot be read: {ex.Message}", path, advice: "Delete it; the next run rebuilds what changed.", inner: ex);
        }
    }

    /// <summary>Writes atomically.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
}

/// <summary>What a stage's key was made of, and its output.</summary>
public sealed record StageRecord
{
    /// <summary>The stage key.</summary>
    [JsonPropertyName("key")]
    public required string Key { get; init; }

    /// <summary>The key's inputs.</summary>
    [JsonPropertyName("inputs")]
    public required StageKeyInputs KeyInputs { get; init; }

    /// <summary>The published output digest.</summary>
    [JsonPropertyName("output")]
    public required string OutputDigest { get; init; }

    /// <summary>What the step computed on when it made the output, such as <c>cpu (2 threads), float32</c>; null when it reported nothing.</summary>
    [JsonPropertyName("device")]
    public string? Device { get; init; }
}
