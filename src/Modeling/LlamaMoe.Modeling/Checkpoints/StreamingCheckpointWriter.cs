using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Checkpoints;

/// <summary>
/// One tensor of a streamed checkpoint: its name, dtype and shape are known up front (for the header), its data is
/// produced only when the writer reaches it and disposed right after it is written.
/// </summary>
/// <param name="Name">The tensor key.</param>
/// <param name="Dtype">Element type.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Produce">Creates the tensor (CPU or any device); the writer disposes it.</param>
public sealed record StreamedTensor(string Name, ScalarType Dtype, long[] Shape, Func<Tensor> Produce)
{
    /// <summary>Bytes of the tensor's data.</summary>
    public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtype.SizeOf(Dtype);
}

/// <summary>
/// Writes a checkpoint whose tensors are produced one at a time, so at most one produced tensor (plus whatever its
/// producer caches) is in memory: <c>model.safetensors</c>, or shards plus <c>model.safetensors.index.json</c> above
/// the shard size. Every file is written atomically.
/// </summary>
public static class StreamingCheckpointWriter
{
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
            WriteFile(single, shards[0]);
            return [single];
        }

        var written = new List<string>();
        var weightMap = new JsonObject();
        for (var i = 0; i < shards.Count; i++)
        {
            var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var path = Path.Combine(directory, name);
            WriteFile(path, shards[i]);
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
        return written;
    }

    private static void WriteFile(string path, IReadOnlyList<StreamedTensor> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        var offset = 0L;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            if (string.IsNullOrEmpty(tensor.Name) || tensor.Name == "__metadata__" || !seen.Add(tensor.Name))
            {
                throw new LlamaMoeException(FormatErrorCodes.UnwritableTensor, $"tensor name '{tensor.Name}' is empty, reserved or repeated", path, tensor.Name);
            }

            header[tensor.Name] = new JsonObject
            {
                ["dtype"] = SafetensorsDtype.NameOf(tensor.Dtype),
                ["shape"] = new JsonArray(tensor.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + tensor.ByteCount),
            };
            offset += tensor.ByteCount;
        }

        var headerBytes = SafetensorsHeaderParser.Utf8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
            stream.Write(prefix);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }

            foreach (var tensor in tensors)
            {
                WriteData(stream, tensor, path);
            }
        });
    }

    private static void WriteData(Stream stream, StreamedTensor declared, string path)
    {
        using var scope = NewDisposeScope();
        var produced = declared.Produce();
        if (produced.dtype != declared.Dtype || !produced.shape.SequenceEqual(declared.Shape))
        {
            throw new LlamaMoeException(FormatErrorCodes.UnwritableTensor,
                $"tensor '{declared.Name}' was declared {declared.Dtype} [{string.Join(", ", declared.Shape)}] but produced {produced.dtype} [{string.Join(", ", produced.shape)}]",
                path, declared.Name);
        }

        if (produced.numel() == 0)
        {
            return;
        }

        var cpu = produced.device_type == TorchSharp.DeviceType.CPU ? produced : produced.cpu();
        var contiguous = cpu.is_contiguous() ? cpu : cpu.contiguous();
        stream.Write(contiguous.bytes);
    }
}
