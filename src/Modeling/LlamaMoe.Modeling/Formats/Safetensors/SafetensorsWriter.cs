using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>
/// Writes one safetensors file: header padded with spaces to a multiple of 8 bytes, tensors in the given order,
/// each produced, written and disposed in turn, the file written atomically. The one file writer behind every checkpoint.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (already in memory; the caller keeps ownership) to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteStreamed(path, tensors.Select(StreamedTensor.Of).ToList(), metadata);

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>, producing each only when its data is written.</summary>
    /// <exception cref="LlamaMoeException">LMOE1113 when a name is empty, reserved or repeated, or a produced tensor differs from its declaration.</exception>
    public static void WriteStreamed(string path, IReadOnlyList<StreamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata)
            {
                meta[key] = value;
            }

            header["__metadata__"] = meta;
        }

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

        var headerBytes = SafetensorsHeaderParser.Utf8.GetBytes(header.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
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
