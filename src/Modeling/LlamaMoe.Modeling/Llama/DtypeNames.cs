using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>Maps Hugging Face <c>torch_dtype</c> names to TorchSharp scalar types.</summary>
public static class DtypeNames
{
    /// <summary>The scalar type for <c>float32</c>, <c>bfloat16</c> or <c>float16</c>.</summary>
    public static ScalarType Parse(string name) => name switch
    {
        "float32" or "float" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "float16" or "half" => ScalarType.Float16,
        _ => throw new LlamaMoeException(Config.ConfigErrorCodes.Unsupported, $"dtype '{name}' is not supported", key: "torch_dtype", advice: "Use float32, bfloat16 or float16."),
    };

    /// <summary>The Hugging Face name of a floating scalar type.</summary>
    public static string Name(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new LlamaMoeException(Config.ConfigErrorCodes.Unsupported, $"dtype {type} is not a model dtype"),
    };
}
