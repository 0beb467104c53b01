using System.Text;

namespace LlamaMoe.Modeling.Formats.Gguf;

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

    /// <summary>The largest accepted <c>general.alignment</c> (1 MiB; llama.cpp writes 32).</summary>
    public const long MaxAlignment = 1L << 20;

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
            NameCheck.Require(key, "metadata key", path);
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
            NameCheck.Require(name, "tensor name", path);
            var nDims = r.U32();
            if (nDims is 0 or > MaxDims)
            {
                throw r.OutOfBounds($"tensor '{name}' has {nDims} dimensions (1 to {MaxDims} supported)", name);
            }

            var dims = new long[nDims];
            for (var d = 0; d < nDims; d++)
            {
                var dim = r.U64();
                dims[d] = dim is 0 or > int.MaxValue ? throw r.OutOfBounds($"tensor '{name}' has dimension {dim}", name) : (long)dim;
            }

            if (!names.Add(name))
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"tensor '{name}' appears twice", path, name);
            }

            infos.Add((name, dims, r.U32(), r.U64()));
        }

        if (metadata.TryGetValue("split.count", out var splitCount))
        {
            var splits = AsUnsigned(splitCount) ?? throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, "split.count is not an integer", path, "split.count");
            if (splits > 1)
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufSplitUnsupported, $"this is part of a split GGUF ({splits} files); split GGUF files are not supported", path, "split.count",
                    "Merge the parts into one file first (llama-gguf-split --merge).");
            }
        }

        var alignment = 32L;
        if (metadata.TryGetValue("general.alignment", out var a))
        {
            var value = AsUnsigned(a) ?? throw r.OutOfBounds($"general.alignment is a {Describe(a)}, not an unsigned integer", "general.alignment");
            if (value is 0 or > MaxAlignment || (value & (value - 1)) != 0)
            {
                throw r.OutOfBounds($"general.alignment {value} is not a power of two between 1 and {MaxAlignment}", "general.alignment");
            }

            alignment = (long)value;
        }

        var dataStart = (stream.Position + alignment - 1) / alignment * alignment;
        var dataLength = stream.Length - dataStart;
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
                elements = d > long.MaxValue / elements ? throw r.OutOfBounds($"tensor '{name}' is too large", name) : elements * d;
            }

            var bytes = elements > long.MaxValue / elementSize ? throw r.OutOfBounds($"tensor '{name}' is too large", name) : elements * elementSize;
            if (dataLength < 0 || offset > (ulong)dataLength || (long)offset % alignment != 0 || bytes > dataLength - (long)offset)
            {
                throw r.OutOfBounds($"tensor '{name}' data (offset {offset}, {bytes} bytes) lies outside the {Math.Max(0, dataLength)}-byte data section or is not aligned to {alignment}", name);
            }

            tensors.Add(new GgufTensorInfo(name, dims, type, dataStart + (long)offset, bytes));
        }

        CheckLayout(tensors, dataStart, stream.Length, alignment, path);
        return new GgufFile(path, version, metadata, tensors);
    }

    /// <summary>
    /// Every byte of the data section must belong to exactly one tensor: sorted by offset, each tensor starts at the first
    /// aligned offset after the previous one (the first at 0), and the file ends after the last tensor (plus at most its padding).
    /// </summary>
    private static void CheckLayout(List<GgufTensorInfo> tensors, long dataStart, long fileLength, long alignment, string path)
    {
        var cursor = dataStart;
        string? previous = null;
        foreach (var tensor in tensors.OrderBy(t => t.Offset))
        {
            if (tensor.Offset < cursor)
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufUnexplainedBytes, $"the data of tensor '{tensor.Name}' overlaps that of '{previous}'", path, tensor.Name,
                    "The file is damaged or hostile; re-convert it.");
            }

            var expected = previous is null ? dataStart : Align(cursor, alignment);
            if (tensor.Offset != expected)
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufUnexplainedBytes, $"bytes {cursor}..{tensor.Offset} of the file belong to no tensor (a gap before '{tensor.Name}')", path, tensor.Name,
                    "The file is damaged or hostile; re-convert it.");
            }

            cursor = tensor.Offset + tensor.ByteCount;
            previous = tensor.Name;
        }

        var end = previous is null ? Math.Min(cursor, fileLength) : cursor;
        if (fileLength < end || fileLength > Align(end, alignment))
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufUnexplainedBytes, $"{fileLength - end} trailing bytes after the last tensor (ending at {end}) belong to no tensor", path, previous,
                "The file is damaged or has data appended; re-convert it.");
        }
    }

    private static long Align(long offset, long alignment) => offset > long.MaxValue - alignment ? offset : (offset + alignment - 1) / alignment * alignment;

    private static ulong? AsUnsigned(object value) => value switch
    {
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u => u,
        sbyte s when s >= 0 => (ulong)s,
        short s when s >= 0 => (ulong)s,
        int s when s >= 0 => (ulong)s,
        long s when s >= 0 => (ulong)s,
        _ => null,
    };

    private static string Describe(object value) => value switch
    {
        string => "string",
        object[] => "array",
        bool => "bool",
        float or double => "floating-point number",
        _ => "negative integer",
    };

    /// <summary>A bounds-checked little-endian reader over the file.</summary>
    private sealed class BoundedReader(FileStream stream, string path)
    {
        private const int MaxDepth = 4;

        // Shared boxes for one-byte values, so that a u8/i8/bool array costs 8 bytes of memory per file byte, not 32.
        private static readonly object[] ByteBoxes = Enumerable.Range(0, 256).Select(i => (object)(byte)i).ToArray();
        private static readonly object[] SByteBoxes = Enumerable.Range(0, 256).Select(i => (object)unchecked((sbyte)i)).ToArray();
        private static readonly object True = true;
        private static readonly object False = false;
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
            0 => ByteBoxes[Need(1).reader.ReadByte()],
            1 => SByteBoxes[Need(1).reader.ReadByte()],
            2 => Need(2).reader.ReadUInt16(),
            3 => Need(2).reader.ReadInt16(),
            4 => Need(4).reader.ReadUInt32(),
            5 => Need(4).reader.ReadInt32(),
            6 => Need(4).reader.ReadSingle(),
            7 => Need(1).reader.ReadByte() != 0 ? True : False,
            8 => String(),
            9 => Array(depth),
            10 => Need(8).reader.ReadUInt64(),
            11 => Need(8).reader.ReadInt64(),
            12 => Need(8).reader.ReadDouble(),
            _ => throw new LlamaMoeException(FormatErrorCodes.GgufUnsupportedType, $"metadata value type {type} is not in the GGUF specification", path),
        };

        public LlamaMoeException OutOfBounds(string message, string? key = null) =>
            new(FormatErrorCodes.GgufOutOfBounds, "invalid GGUF file: " + message, path, key, "The file is truncated or damaged; re-download or re-convert it.");

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
