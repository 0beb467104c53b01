using System.Text;
using LlamaMoe.Modeling.Checkpoints;

namespace LlamaMoe.Modeling.Import;

/// <summary>One GGUF tensor descriptor (dims in GGUF order: <c>ne[0]</c> is the fastest-varying).</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Dims">Dimensions, innermost first.</param>
/// <param name="Type">GGML type id (0 F32, 1 F16, 30 BF16 supported).</param>
/// <param name="Offset">Absolute file offset of the data.</param>
/// <param name="ByteCount">Size of the data.</param>
public sealed record GgufTensorInfo(string Name, long[] Dims, uint Type, long Offset, long ByteCount);

/// <summary>
/// A GGUF (v2/v3) file's metadata and tensor directory. Every count, length and offset is checked against the file size
/// with overflow-safe arithmetic before it is used (LMOE1121); unsupported types are LMOE1122.
/// </summary>
public sealed class GgufFile
{
    private const uint Magic = 0x46554747; // "GGUF"
    private const int MaxDims = 4;

    private GgufFile(string path, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>The file path.</summary>
    public string Path { get; }

    /// <summary>The GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Metadata values: numbers, bool, string, or arrays (object[]).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>The tensor directory in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Reads and validates the header, metadata and tensor directory.</summary>
    public static GgufFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        var r = new BoundedReader(stream, path);
        if (stream.Length < 24 || r.U32() != Magic)
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufBadHeader, "not a GGUF file (bad magic)", path);
        }

        var version = r.U32();
        if (version is not (2 or 3))
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufBadHeader, $"GGUF version {version} is not supported (only 2 and 3)", path);
        }

        var tensorCount = r.Count(r.U64(), 8 + 4 + 4 + 8, "tensor count");
        var kvCount = r.Count(r.U64(), 8 + 4, "metadata count");
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            var key = r.String();
            var type = r.U32();
            if (!metadata.TryAdd(key, r.Value(type, depth: 0)))
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"metadata key '{key}' appears twice", path, key);
            }
        }

        var infos = new List<(string Name, long[] Dims, uint Type, ulong Offset)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            var name = r.String();
            var nDims = r.U32();
            if (nDims is 0 or > MaxDims)
            {
                throw r.OutOfBounds($"tensor '{name}' has {nDims} dimensions");
            }

            var dims = new long[nDims];
            for (var d = 0; d < nDims; d++)
            {
                var dim = r.U64();
                dims[d] = dim is 0 or > int.MaxValue ? throw r.OutOfBounds($"tensor '{name}' has dimension {dim}") : (long)dim;
            }

            if (!names.Add(name))
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"tensor '{name}' appears twice", path, name);
            }

            infos.Add((name, dims, r.U32(), r.U64()));
        }

        var alignment = metadata.TryGetValue("general.alignment", out var a) ? Convert.ToInt64(a, System.Globalization.CultureInfo.InvariantCulture) : 32;
        if (alignment <= 0 || alignment > 1 << 20 || (alignment & (alignment - 1)) != 0)
        {
            throw r.OutOfBounds($"general.alignment {alignment} is not a power of two");
        }

        var dataStart = (stream.Position + alignment - 1) / alignment * alignment;
        var tensors = new List<GgufTensorInfo>();
        foreach (var (name, dims, type, offset) in infos)
        {
            var elementSize = type switch
            {
                0 => 4,
                1 or 30 => 2,
                _ => throw new LlamaMoeException(FormatErrorCodes.GgufUnsupportedType, $"tensor '{name}' has GGML type {type}; only F32, F16 and BF16 are supported (no quantized types)", path, name,
                    "Convert an unquantized (F32/F16/BF16) GGUF."),
            };
            long elements = 1;
            foreach (var d in dims)
            {
                elements = d > long.MaxValue / elements ? throw r.OutOfBounds($"tensor '{name}' is too large") : elements * d;
            }

            var bytes = elements > long.MaxValue / elementSize ? throw r.OutOfBounds($"tensor '{name}' is too large") : elements * elementSize;
            if (offset > (ulong)(stream.Length - dataStart) || (long)offset % alignment != 0 || bytes > stream.Length - dataStart - (long)offset)
            {
                throw r.OutOfBounds($"tensor '{name}' data (offset {offset}, {bytes} bytes) lies outside the file");
            }

            tensors.Add(new GgufTensorInfo(name, dims, type, dataStart + (long)offset, bytes));
        }

        return new GgufFile(path, version, metadata, tensors);
    }

    /// <summary>A bounds-checked little-endian reader over the file.</summary>
    private sealed class BoundedReader(FileStream stream, string path)
    {
        private const int MaxDepth = 4;
        private readonly BinaryReader reader = new(stream, Encoding.UTF8, leaveOpen: true);

        private long Remaining => stream.Length - stream.Position;

        public uint U32() => Need(4).reader.ReadUInt32();

        public ulong U64() => Need(8).reader.ReadUInt64();

        /// <summary>Checks that <paramref name="count"/> items of at least <paramref name="minItemBytes"/> each can fit in the rest of the file.</summary>
        public long Count(ulong count, long minItemBytes, string what) =>
            count > (ulong)(Remaining / Math.Max(1, minItemBytes)) ? throw OutOfBounds($"{what} {count} cannot fit in the remaining {Remaining} bytes") : (long)count;

        public string String()
        {
            var length = Count(U64(), 1, "string length");
            var bytes = reader.ReadBytes((int)Math.Min(length, int.MaxValue));
            return bytes.Length == length ? Encoding.UTF8.GetString(bytes) : throw OutOfBounds("string runs past the end of the file");
        }

        public object Value(uint type, int depth) => type switch
        {
            0 => Need(1).reader.ReadByte(),
            1 => Need(1).reader.ReadSByte(),
            2 => Need(2).reader.ReadUInt16(),
            3 => Need(2).reader.ReadInt16(),
            4 => Need(4).reader.ReadUInt32(),
            5 => Need(4).reader.ReadInt32(),
            6 => Need(4).reader.ReadSingle(),
            7 => Need(1).reader.ReadByte() != 0,
            8 => String(),
            9 => Array(depth),
            10 => Need(8).reader.ReadUInt64(),
            11 => Need(8).reader.ReadInt64(),
            12 => Need(8).reader.ReadDouble(),
            _ => throw new LlamaMoeException(FormatErrorCodes.GgufUnsupportedType, $"metadata value type {type} is not in the GGUF specification", path),
        };

        public LlamaMoeException OutOfBounds(string message) =>
            new(FormatErrorCodes.GgufOutOfBounds, "invalid GGUF file: " + message, path, advice: "The file is truncated or damaged; re-download or re-convert it.");

        private object[] Array(int depth)
        {
            if (depth >= MaxDepth)
            {
                throw OutOfBounds("metadata arrays are nested too deeply");
            }

            var itemType = U32();
            var minSize = itemType switch { 0 or 1 or 7 => 1, 2 or 3 => 2, 4 or 5 or 6 => 4, 8 or 10 or 11 or 12 => 8, 9 => 12, _ => 1 };
            var count = Count(U64(), minSize, "array length");
            var items = new object[count];
            for (long i = 0; i < count; i++)
            {
                items[i] = Value(itemType, depth + 1);
            }

            return items;
        }

        private BoundedReader Need(int bytes) => Remaining >= bytes ? this : throw OutOfBounds("the file ends in the middle of the metadata");
    }
}
