using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Turns on TensorFloat-32 CUDA matmuls for the length of a training run in <see cref="ComputePrecision.TensorFloat32"/>
/// and restores the previous setting when disposed. The setting is process-wide in libtorch, so runs that want TF32 must
/// not overlap with runs that do not.
/// </summary>
public sealed class MatmulPrecisionScope : IDisposable
{
    private readonly bool previous;

    private MatmulPrecisionScope(bool previous) => this.previous = previous;

    /// <summary>Applies the matmul precision <paramref name="precision"/> asks for on <paramref name="device"/>; null when nothing changes.</summary>
    public static MatmulPrecisionScope? For(ComputePrecision precision, Device device)
    {
        if (precision != ComputePrecision.TensorFloat32 || device.type != DeviceType.CUDA)
        {
            return null;
        }

        var scope = new MatmulPrecisionScope(backends.cuda.matmul.allow_tf32);
        backends.cuda.matmul.allow_tf32 = true;
        return scope;
    }

    /// <inheritdoc />
    public void Dispose() => backends.cuda.matmul.allow_tf32 = previous;
}
