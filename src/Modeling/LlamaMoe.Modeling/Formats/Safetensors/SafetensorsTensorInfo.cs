using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>One tensor entry of a safetensors header, already validated against the file.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Dtype">The safetensors dtype name (F32, BF16, ...).</param>
/// <param name="ScalarType">The matching TorchSharp type.</param>
/// <param name="Shape">The shape.</param>
/// <param name="Begin">Start offset inside the data section.</param>
/// <param name="End">End offset (exclusive) inside the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, string Dtype, ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    /// <summary>Byte count of the tensor data.</summary>
    public long ByteCount => End - Begin;
}
