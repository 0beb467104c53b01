using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>Reads a dense checkpoint's MLP weight rows on demand: the checkpoint is opened on the first read only.</summary>
/// <param name="denseDirectory">The dense model folder.</param>
internal sealed class DenseMlpRows(string denseDirectory) : IDisposable
{
    private ShardedCheckpoint? checkpoint;

    /// <summary>Layer <paramref name="layer"/>'s up_proj or gate_proj rows, row-major <c>(I, H)</c> float32.</summary>
    public float[] Read(int layer, MlpRows matrix)
    {
        checkpoint ??= ShardedCheckpoint.Open(denseDirectory);
        var name = $"model.layers.{layer}.mlp.{(matrix == MlpRows.Gate ? "gate_proj" : "up_proj")}.weight";
        using var scope = NewDisposeScope();
        return checkpoint.Read(name).to(ScalarType.Float32).contiguous().data<float>().ToArray(); // (I, H)
    }

    /// <inheritdoc />
    public void Dispose() => checkpoint?.Dispose();
}
