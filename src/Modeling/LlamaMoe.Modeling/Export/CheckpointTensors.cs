using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Opens a model directory's safetensors weights lazily: every tensor becomes a <see cref="StreamedTensor"/> that reads
/// its data (in the file's own dtype) only when produced, so a reader never holds more than the tensor a writer is
/// writing. Format readers rename tensors and fold constant factors through a <see cref="TensorMap"/>.
/// </summary>
internal static class CheckpointTensors
{
    /// <summary>Maps a file tensor name to its native name and a factor to multiply it by, or null to leave it out.</summary>
    public delegate (string Name, double Factor)? TensorMap(string fileName);

    /// <summary>Opens <paramref name="directory"/> as a lazy <see cref="MoeCheckpoint"/> (the checkpoint owns the open files).</summary>
    public static MoeCheckpoint Open(string directory, MoeConfig config, TensorMap? map = null)
    {
        var files = ShardedCheckpoint.Open(directory);
        try
        {
            return new MoeCheckpoint(config, Entries(files, map ?? (name => (name, 1.0))), files);
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>The mapped tensors of an open checkpoint, in file order; nothing is read yet.</summary>
    public static IReadOnlyList<StreamedTensor> Entries(ShardedCheckpoint files, TensorMap map)
    {
        var entries = new List<StreamedTensor>();
        foreach (var fileName in files.Names)
        {
            if (map(fileName) is not var (name, factor))
            {
                continue;
            }

            var info = files.Info(fileName);
            entries.Add(new StreamedTensor(name, info.ScalarType, info.Shape, () => TakeScaled(files.Read(fileName), factor)));
        }

        return entries;
    }

    /// <summary>
    /// <paramref name="tensor"/> times <paramref name="factor"/> in its own dtype (the product is computed in float32 and
    /// rounded once); the same tensor when the factor is 1. The caller still owns (and disposes) <paramref name="tensor"/>.
    /// </summary>
    public static Tensor Scaled(Tensor tensor, double factor)
    {
        if (factor == 1.0)
        {
            return tensor;
        }

        using var scope = NewDisposeScope();
        var product = tensor.dtype == ScalarType.Float32 ? tensor.mul(factor) : tensor.to_type(ScalarType.Float32).mul(factor).to_type(tensor.dtype);
        return product.MoveToOuterDisposeScope();
    }

    /// <summary>Like <see cref="Scaled(Tensor, double)"/>, but takes ownership: <paramref name="tensor"/> is disposed when a new tensor replaces it.</summary>
    public static Tensor TakeScaled(Tensor tensor, double factor)
    {
        if (factor == 1.0)
        {
            return tensor;
        }

        using (tensor)
        {
            return Scaled(tensor, factor);
        }
    }

    /// <summary>A streamed tensor whose data is <paramref name="source"/>'s times <paramref name="factor"/> (same name unless <paramref name="name"/> is given).</summary>
    public static StreamedTensor Scaled(StreamedTensor source, double factor, string? name = null) =>
        factor == 1.0 && name is null ? source : new StreamedTensor(name ?? source.Name, source.Dtype, source.Shape, () => TakeScaled(source.Produce(), factor));
}
