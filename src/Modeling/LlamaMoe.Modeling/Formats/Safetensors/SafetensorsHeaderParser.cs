using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>
/// Parses and validates a safetensors header against the file length. Every count and offset is checked with
/// overflow-safe arithmetic before use; each violation is a distinct LMOE11xx code.
/// </summary>
public static class SafetensorsHeaderParser
{
    /// <summary>The largest accepted header (100 MB, the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100L * 1000 * 1000;

    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxDims = 16;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    /// <summary>Reads the header from <paramref name="stream"/> (positioned at 0) and returns the entries and the data start.</summary>
    public static (IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart) Parse(Stream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw Error(FormatErrorCodes.SafetensorsTruncated, $"the file is {fileLength} bytes, shorter than the 8-byte header length", path);
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderTooLarge, $"the header claims {headerLength} bytes, more than the {MaxHeaderBytes}-byte limit", path);
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderPastEnd, $"the header length {headerLength} points past the end of the {fileLength}-byte file", path);
        }

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "the header is not valid UTF-8", path);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, Strict);
        }
        catch (JsonException ex)
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "the header is not valid JSON or has a key twice: " + ex.Message, path, inner: ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "the header is not a JSON object", path);
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }

                NameCheck.Require(property.Name, "tensor name", path);
                tensors.Add(ReadEntry(property.Name, property.Value, dataLength, path));
            }

            CheckLayout(tensors, dataLength, path);
            return (tensors, metadata, dataStart);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "__metadata__ must be an object of strings", path, "__metadata__");
        }

        foreach (var item in value.EnumerateObject())
        {
            NameCheck.Require(item.Name, "__metadata__ key", path);
            metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                ? item.Value.GetString()!
                : throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "__metadata__ values must be strings", path, "__metadata__." + item.Name);
        }
    }

    private static SafetensorsTensorInfo ReadEntry(string name, JsonElement entry, long dataLength, string path)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw Error(FormatErrorCodes.SafetensorsHeaderMalformed, "a tensor entry needs a dtype string, a shape list and a data_offsets list", path, name);
        }

        var dtype = dtypeElement.GetString()!;
        if (!SafetensorsDtype.TryParse(dtype, out var scalarType, out var elementSize))
        {
            throw Error(FormatErrorCodes.SafetensorsUnknownDtype, $"unknown dtype '{dtype}'", path, name);
        }

        if (shapeElement.GetArrayLength() > MaxDims)
        {
            throw Error(FormatErrorCodes.SafetensorsShapeMismatch, $"the shape has {shapeElement.GetArrayLength()} dimensions, more than {MaxDims}", path, name);
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var elements = 1L;
        var overflow = false;
        for (var i = 0; i < shape.Length; i++)
        {
            var dim = shapeElement[i];
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out shape[i]) || shape[i] < 0)
            {
                throw Error(FormatErrorCodes.SafetensorsShapeMismatch, "shape entries must be non-negative integers", path, name);
            }

            overflow |= shape[i] != 0 && elements > long.MaxValue / shape[i];
            elements = overflow ? elements : elements * shape[i];
        }

        if (offsetsElement.GetArrayLength() != 2
            || offsetsElement[0].ValueKind != JsonValueKind.Number || offsetsElement[1].ValueKind != JsonValueKind.Number
            || !offsetsElement[0].TryGetInt64(out var begin) || !offsetsElement[1].TryGetInt64(out var end)
            || begin < 0 || end < begin)
        {
            throw Error(FormatErrorCodes.SafetensorsOffsetsOutOfRange, "data_offsets must be two integers 0 <= begin <= end", path, name);
        }

        if (end > dataLength)
        {
            throw Error(FormatErrorCodes.SafetensorsTruncated, $"the tensor data ends at {end} but the data section has only {dataLength} bytes", path, name);
        }

        if (overflow || elements > long.MaxValue / elementSize || elements * elementSize != end - begin)
        {
            throw Error(FormatErrorCodes.SafetensorsShapeMismatch, $"shape [{string.Join(", ", shape)}] of {dtype} does not match the {end - begin} bytes of its data_offsets", path, name);
        }

        return new SafetensorsTensorInfo(name, dtype, scalarType, shape, begin, end);
    }

    /// <summary>
    /// Every byte of the data section must belong to exactly one tensor: sorted by offset, each tensor starts where the
    /// previous one ended, the first at 0 and the last ending at the end of the file (the reference implementation's rule).
    /// </summary>
    private static void CheckLayout(List<SafetensorsTensorInfo> tensors, long dataLength, string path)
    {
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        var cursor = 0L;
        string? previous = null;
        foreach (var tensor in ordered)
        {
            if (tensor.Begin < cursor)
            {
                throw Error(FormatErrorCodes.SafetensorsOverlappingOffsets, $"the bytes of '{tensor.Name}' overlap those of '{previous}'", path, tensor.Name);
            }

            if (tensor.Begin > cursor)
            {
                throw Error(FormatErrorCodes.SafetensorsUnexplainedBytes,
                    $"data bytes {cursor}..{tensor.Begin} belong to no tensor (a gap before '{tensor.Name}')", path, tensor.Name);
            }

            cursor = tensor.End;
            previous = tensor.Name;
        }

        if (cursor != dataLength)
        {
            throw Error(FormatErrorCodes.SafetensorsUnexplainedBytes,
                $"{dataLength - cursor} trailing bytes after the last tensor belong to no tensor (data section {dataLength} bytes, tensors end at {cursor})", path, previous);
        }
    }

    private static LlamaMoeException Error(string code, string message, string path, string? key = null, Exception? inner = null) =>
        new(code, "invalid safetensors file: " + message, path, key is null ? null : NameCheck.Escape(key), "The file is damaged or not a safetensors file; re-download or re-export it.", inner: inner);

    /// <summary>UTF-8 without BOM, used for headers.</summary>
    internal static readonly Encoding Utf8 = new UTF8Encoding(false);
}
