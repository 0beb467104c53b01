using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>Maps safetensors dtype names to TorchSharp scalar types and element sizes.</summary>
public static class SafetensorsDtype
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> ByName = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>True when <paramref name="name"/> is a supported dtype; gives its scalar type and element size.</summary>
    public static bool TryParse(string name, out ScalarType type, out int elementSize)
    {
        if (ByName.TryGetValue(name, out var entry))
        {
            (type, elementSize) = entry;
            return true;
        }

        type = default;
        elementSize = 0;
        return false;
    }

    /// <summary>The safetensors name of a scalar type; throws LMOE1113 for an unsupported type.</summary>
    public static string NameOf(ScalarType type)
    {
        foreach (var (name, entry) in ByName)
        {
            if (entry.Type == type)
            {
                return name;
            }
        }

        throw new LlamaMoeException(FormatErrorCodes.UnwritableTensor, $"dtype {type} cannot be stored in safetensors by this writer");
    }

    /// <summary>The element size in bytes of a supported scalar type.</summary>
    public static int SizeOf(ScalarType type) => ByName[NameOf(type)].Size;
}
