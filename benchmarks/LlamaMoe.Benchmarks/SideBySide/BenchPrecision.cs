using LlamaMoe.Modeling.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>The arithmetic of a side-by-side case (the same three names in hf_baseline.py).</summary>
public enum BenchPrecision
{
    /// <summary>float32 everywhere, TF32 matmuls off.</summary>
    Float32,

    /// <summary>float32 tensors with <c>torch.backends.cuda.matmul.allow_tf32 = true</c> (TF32 tensor-core matmuls).</summary>
    TF32,

    /// <summary>bfloat16 compute with float32 masters (<see cref="ComputePrecision.BFloat16"/>; autocast in the baseline).</summary>
    BFloat16,
}

/// <summary>Names, trainer settings and device helpers of <see cref="BenchPrecision"/>.</summary>
public static class BenchPrecisions
{
    /// <summary>All precisions, in report order.</summary>
    public static IReadOnlyList<BenchPrecision> All { get; } = [BenchPrecision.Float32, BenchPrecision.TF32, BenchPrecision.BFloat16];

    /// <summary>The command-line and JSON name: <c>float32</c>, <c>tf32</c> or <c>bfloat16</c>.</summary>
    public static string Name(this BenchPrecision precision) => precision switch
    {
        BenchPrecision.Float32 => "float32",
        BenchPrecision.TF32 => "tf32",
        _ => "bfloat16",
    };

    /// <summary>The precision of a name, or null.</summary>
    public static BenchPrecision? Parse(string name) => All.Cast<BenchPrecision?>().FirstOrDefault(p => p!.Value.Name() == name);

    /// <summary>The trainer's compute precision for this case.</summary>
    public static ComputePrecision Compute(this BenchPrecision precision) =>
        precision == BenchPrecision.BFloat16 ? ComputePrecision.BFloat16 : ComputePrecision.Float32;

    /// <summary>The dtype of the matmul peak this case is naturally compared with.</summary>
    public static ScalarType MatmulType(this BenchPrecision precision) =>
        precision == BenchPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>
    /// Sets <c>torch.backends.cuda.matmul.allow_tf32</c> for this case on a CUDA device (on for TF32, off otherwise) and
    /// returns a scope that restores the previous value. On the CPU nothing is changed.
    /// </summary>
    public static IDisposable Apply(this BenchPrecision precision, Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return new Tf32Scope(null);
        }

        var previous = torch.backends.cuda.matmul.allow_tf32;
        torch.backends.cuda.matmul.allow_tf32 = precision == BenchPrecision.TF32;
        return new Tf32Scope(previous);
    }

    /// <summary>Waits for every queued kernel on <paramref name="device"/> (torch.cuda.synchronize); nothing on the CPU.</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize(device);
        }
    }

    private sealed class Tf32Scope(bool? previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous is { } value)
            {
                torch.backends.cuda.matmul.allow_tf32 = value;
            }
        }
    }
}
