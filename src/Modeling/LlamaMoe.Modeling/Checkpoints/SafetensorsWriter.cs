using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Checkpoints;

/// <summary>
/// Writes safetensors files: header padded with spaces to a multiple of 8 bytes, tensors in the given order,
/// streamed one at a time, written atomically.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
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
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__" || !seen.Add(name))
            {
                throw new LlamaMoeException(FormatErrorCodes.UnwritableTensor, $"tensor name '{name}' is empty, reserved or repeated", path, name);
            }

            var size = tensor.numel() * SafetensorsDtype.SizeOf(tensor.dtype);
            header[name] = new JsonObject
            {
                ["dtype"] = SafetensorsDtype.NameOf(tensor.dtype),
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
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

            foreach (var (_, tensor) in tensors)
            {
                WriteData(stream, tensor);
            }
        });
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        if (tensor.numel() == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var cpu = tensor.device_type == TorchSharp.DeviceType.CPU ? tensor : tensor.cpu();
        var contiguous = cpu.is_contiguous() ? cpu : cpu.contiguous();
        stream.Write(contiguous.bytes);
    }
}
