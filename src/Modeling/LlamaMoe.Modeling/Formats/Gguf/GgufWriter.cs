using System.Text;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Gguf;

/// <summary>
/// Writes a GGUF v3 file (little-endian): header, metadata key/values, tensor directory, then the tensor data, every
/// tensor aligned to <see cref="Alignment"/> bytes (recorded as <c>general.alignment</c>). Tensors are given in torch
/// layout (outermost dimension first); GGUF stores dimensions innermost first (<c>ne[0]</c>), so they are reversed.
/// The file is written atomically; tensors are produced (<see cref="StreamedTensor"/>), converted, written and disposed one
/// at a time, so a writer holds one tensor however large the model.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>The data alignment in bytes.</summary>
    public const int Alignment = 32;

    /// <summary>llama.cpp's GGML_MAX_NAME (64) minus the terminating zero.</summary>
    public const int MaxTensorNameBytes = 63;

    private const uint Magic = 0x46554747; // "GGUF"
    private const uint Version = 3;
    private readonly List<(string Key, GgufValueType Type, GgufValueType ItemType, object Value)> metadata = [];
    private readonly List<(StreamedTensor Tensor, GgufTensorType Type)> tensors = [];
    private readonly HashSet<string> keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    /// <summary>Creates a writer; <c>general.alignment</c> is added first.</summary>
    public GgufWriter() => Add("general.alignment", GgufValueType.UInt32, (uint)Alignment);

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => tensors.Count;

    /// <summary>Adds a scalar value (<paramref name="value"/> must be the CLR type of <paramref name="type"/>: byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long, double).</summary>
    public GgufWriter Add(string key, GgufValueType type, object value)
    {
        if (type == GgufValueType.Array || !Matches(type, value))
        {
            throw Invalid($"metadata '{key}': value of type {value.GetType().Name} does not match GGUF type {type}", key);
        }

        AddEntry(key, type, type, value);
        return this;
    }

    /// <summary>Adds a string value.</summary>
    public GgufWriter AddString(string key, string value) => Add(key, GgufValueType.String, value);

    /// <summary>Adds a uint32 value.</summary>
    public GgufWriter AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    /// <summary>Adds a float32 value.</summary>
    public GgufWriter AddFloat32(string key, float value) => Add(key, GgufValueType.Float32, value);

    /// <summary>Adds a bool value.</summary>
    public GgufWriter AddBool(string key, bool value) => Add(key, GgufValueType.Bool, value);

    /// <summary>Adds an array whose items all have <paramref name="itemType"/> (no nested arrays).</summary>
    public GgufWriter AddArray(string key, GgufValueType itemType, System.Collections.IList items)
    {
        if (itemType == GgufValueType.Array)
        {
            throw Invalid($"metadata '{key}': nested arrays are not written", key);
        }

        foreach (var item in items)
        {
            if (item is null || !Matches(itemType, item))
            {
                throw Invalid($"metadata '{key}': an item does not match the array type {itemType}", key);
            }
        }

        AddEntry(key, GgufValueType.Array, itemType, items);
        return this;
    }

    /// <summary>Adds a tensor (torch layout, at most 4 dimensions), stored as <paramref name="type"/>. The tensor is read when <see cref="Write"/> runs; the caller keeps it.</summary>
    public GgufWriter AddTensor(string name, Tensor tensor, GgufTensorType type = GgufTensorType.F32) =>
        AddTensor(StreamedTensor.Of(new(name, tensor)), type);

    /// <summary>
    /// Adds a tensor declared by name, dtype and shape (torch layout, at most 4 dimensions), stored as <paramref name="type"/>;
    /// <see cref="Write"/> produces it when its data is written and disposes it right after.
    /// </summary>
    public GgufWriter AddTensor(StreamedTensor tensor, GgufTensorType type = GgufTensorType.F32)
    {
        var name = tensor.Name;
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes || !names.Add(name))
        {
            throw Invalid($"tensor name '{name}' is empty, longer than {MaxTensorNameBytes} bytes, or repeated", name);
        }

        if (tensor.Shape.Length is < 1 or > 4 || tensor.Shape.Any(d => d <= 0) || !IsFloatingPoint(tensor.Dtype))
        {
            throw Invalid($"tensor '{name}' must be a non-empty floating-point tensor of 1 to 4 dimensions, got [{string.Join(", ", tensor.Shape)}] {tensor.Dtype}", name);
        }

        tensors.Add((tensor, type));
        return this;
    }

    /// <summary>Writes the file atomically.</summary>
    public void Write(string path)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            w.Write(Magic);
            w.Write(Version);
            w.Write((ulong)tensors.Count);
            w.Write((ulong)metadata.Count);
            foreach (var (key, type, itemType, value) in metadata)
            {
                WriteString(w, key);
                w.Write((uint)type);
                if (type == GgufValueType.Array)
                {
                    var items = (System.Collections.IList)value;
                    w.Write((uint)itemType);
                    w.Write((ulong)items.Count);
                    foreach (var item in items)
                    {
                        WriteValue(w, itemType, item!);
                    }
                }
                else
                {
                    WriteValue(w, type, value);
                }
            }

            var offset = 0L;
            foreach (var (tensor, type) in tensors)
            {
                WriteString(w, tensor.Name);
                w.Write((uint)tensor.Shape.Length);
                foreach (var dim in tensor.Shape.Reverse())
                {
                    w.Write((ulong)dim); // ne[0] is the innermost dimension
                }

                w.Write((uint)type);
                w.Write((ulong)offset);
                offset = Align(offset + (tensor.Shape.Aggregate(1L, (a, b) => a * b) * ElementSize(type)));
            }

            w.Flush();
            Pad(stream);
            foreach (var (tensor, type) in tensors)
            {
                WriteData(stream, tensor, type);
                Pad(stream);
            }
        });
    }

    /// <summary>Bytes per element of <paramref name="type"/>.</summary>
    public static int ElementSize(GgufTensorType type) => type == GgufTensorType.F32 ? 4 : 2;

    private void AddEntry(string key, GgufValueType type, GgufValueType itemType, object value)
    {
        if (string.IsNullOrEmpty(key) || !keys.Add(key))
        {
            throw Invalid($"metadata key '{key}' is empty or repeated", key);
        }

        metadata.Add((key, type, itemType, value));
    }

    private static bool Matches(GgufValueType type, object value) => type switch
    {
        GgufValueType.UInt8 => value is byte,
        GgufValueType.Int8 => value is sbyte,
        GgufValueType.UInt16 => value is ushort,
        GgufValueType.Int16 => value is short,
        GgufValueType.UInt32 => value is uint,
        GgufValueType.Int32 => value is int,
        GgufValueType.Float32 => value is float,
        GgufValueType.Bool => value is bool,
        GgufValueType.String => value is string,
        GgufValueType.UInt64 => value is ulong,
        GgufValueType.Int64 => value is long,
        GgufValueType.Float64 => value is double,
        _ => false,
    };

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (value)
        {
            case string s:
                WriteString(w, s);
                break;
            case bool b:
                w.Write((byte)(b ? 1 : 0));
                break;
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            default: throw Invalid($"cannot write a {type} value of CLR type {value.GetType().Name}", null);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static bool IsFloatingPoint(ScalarType dtype) => dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;

    private static void WriteData(Stream stream, StreamedTensor declared, GgufTensorType type)
    {
        using var scope = NewDisposeScope();
        var tensor = declared.Produce();
        if (!tensor.shape.SequenceEqual(declared.Shape) || !tensor.is_floating_point())
        {
            throw Invalid($"tensor '{declared.Name}' was declared [{string.Join(", ", declared.Shape)}] but produced [{string.Join(", ", tensor.shape)}] {tensor.dtype}", declared.Name);
        }

        var target = type switch { GgufTensorType.F32 => ScalarType.Float32, GgufTensorType.F16 => ScalarType.Float16, _ => ScalarType.BFloat16 };
        var data = tensor.detach().cpu().to_type(target).contiguous(); // (same shape, stored type)
        if (!BitConverter.IsLittleEndian)
        {
            throw Invalid("the GGUF writer needs a little-endian machine", null);
        }

        stream.Write(data.bytes);
    }

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream)
    {
        var padding = (int)(Align(stream.Position) - stream.Position);
        Span<byte> zeros = stackalloc byte[Alignment];
        stream.Write(zeros[..padding]);
    }

    private static LlamaMoeException Invalid(string message, string? key) =>
        new(ExportErrorCodes.GgufWriterInvalid, "cannot write GGUF: " + message, key: key, advice: "Fix the metadata key or tensor passed to the GGUF writer.");
}
