using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>
/// Writes a checkpoint whose tensors are produced one at a time, so at most one produced tensor (plus whatever its
/// producer caches) is in memory: <c>model.safetensors</c>, or shards plus <c>model.safetensors.index.json</c> above
/// the shard size. Every file is written atomically, and whatever an earlier save left that the new one does not use
/// (a stale index, a stale single file or stale shards) is deleted. The one checkpoint writer: eager tensors go through it too.
/// </summary>
public static partial class StreamingCheckpointWriter
{
    private static readonly Dictionary<string, string> Metadata = new() { ["format"] = "pt" };

    /// <summary>Writes in-memory <paramref name="tensors"/> (the caller keeps ownership); returns the files written.</summary>
    /// <param name="directory">Target directory (created if needed).</param>
    /// <param name="tensors">Tensors in write order.</param>
    /// <param name="maxShardBytes">Largest shard size; a single tensor larger than this gets a shard of its own.</param>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long maxShardBytes = 5L << 30) =>
        Write(directory, tensors.Select(StreamedTensor.Of).ToList(), maxShardBytes);

    /// <summary>Writes <paramref name="tensors"/> into <paramref name="directory"/> in the given order; returns the files written.</summary>
    /// <exception cref="LlamaMoeException">LMOE1113 when a produced tensor's dtype or shape differs from its declaration.</exception>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<StreamedTensor> tensors, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        var shards = new List<List<StreamedTensor>> { new() };
        long current = 0, total = 0;
        foreach (var tensor in tensors)
        {
            if (current > 0 && current + tensor.ByteCount > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            shards[^1].Add(tensor);
            current += tensor.ByteCount;
            total += tensor.ByteCount;
        }

        if (shards.Count == 1)
        {
            var single = Path.Combine(directory, ShardedCheckpoint.SingleFileName);
            SafetensorsWriter.WriteStreamed(single, shards[0], Metadata);
            DeleteStale(directory, [single]);
            return [single];
        }

        var written = new List<string>();
        var weightMap = new JsonObject();
        for (var i = 0; i < shards.Count; i++)
        {
            var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var path = Path.Combine(directory, name);
            SafetensorsWriter.WriteStreamed(path, shards[i], Metadata);
            written.Add(path);
            foreach (var tensor in shards[i])
            {
                weightMap[tensor.Name] = name;
            }
        }

        var index = Path.Combine(directory, ShardedCheckpoint.IndexFileName);
        var indexJson = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        AtomicFile.WriteAllText(index, indexJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        written.Add(index);
        DeleteStale(directory, written);
        return written;
    }

    private static void DeleteStale(string directory, IReadOnlyList<string> written)
    {
        var keep = written.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var candidates = Directory.EnumerateFiles(directory, "model-*-of-*.safetensors")
            .Where(path => ShardName().IsMatch(Path.GetFileName(path)))
            .Append(Path.Combine(directory, ShardedCheckpoint.SingleFileName))
            .Append(Path.Combine(directory, ShardedCheckpoint.IndexFileName));
        foreach (var path in candidates.Where(path => !keep.Contains(Path.GetFileName(path)) && File.Exists(path)))
        {
            File.Delete(path);
        }
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
