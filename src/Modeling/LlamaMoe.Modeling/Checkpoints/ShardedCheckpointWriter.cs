using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Checkpoints;

/// <summary>
/// Writes model weights as <c>model.safetensors</c>, or as <c>model-0000k-of-0000n.safetensors</c> shards plus
/// <c>model.safetensors.index.json</c> when they exceed the maximum shard size.
/// </summary>
public static class ShardedCheckpointWriter
{
    /// <summary>Writes <paramref name="tensors"/> into <paramref name="directory"/>; returns the files written.</summary>
    /// <param name="directory">Target directory (created if needed).</param>
    /// <param name="tensors">Tensors in write order.</param>
    /// <param name="maxShardBytes">Largest shard size; a single tensor larger than this gets a shard of its own.</param>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long current = 0, total = 0;
        foreach (var pair in tensors)
        {
            var size = pair.Value.numel() * SafetensorsDtype.SizeOf(pair.Value.dtype);
            if (current > 0 && current + size > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            shards[^1].Add(pair);
            current += size;
            total += size;
        }

        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        var single = Path.Combine(directory, ShardedCheckpoint.SingleFileName);
        var index = Path.Combine(directory, ShardedCheckpoint.IndexFileName);
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(single, tensors, metadata);
            DeleteIfPresent(index);
            return [single];
        }

        var written = new List<string>();
        var weightMap = new JsonObject();
        for (var i = 0; i < shards.Count; i++)
        {
            var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var path = Path.Combine(directory, name);
            SafetensorsWriter.Write(path, shards[i], metadata);
            written.Add(path);
            foreach (var (tensor, _) in shards[i])
            {
                weightMap[tensor] = name;
            }
        }

        var indexJson = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = weightMap,
        };
        AtomicFile.WriteAllText(index, indexJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        DeleteIfPresent(single);
        written.Add(index);
        return written;
    }

    private static void DeleteIfPresent(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
