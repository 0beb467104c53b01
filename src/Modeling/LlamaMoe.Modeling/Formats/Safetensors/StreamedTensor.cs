using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

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

    /// <summary>Streams a tensor that is already in memory: the writer disposes only an alias, the caller keeps the tensor.</summary>
    public static StreamedTensor Of(KeyValuePair<string, Tensor> pair) =>
        new(pair.Key, pair.Value.dtype, pair.Value.shape, pair.Value.alias);
}
