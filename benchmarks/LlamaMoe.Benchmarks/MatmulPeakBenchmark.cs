using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks;

/// <summary>Measures the float32 and bfloat16 matmul FLOP/s of this machine: the peak other ratios are taken against.</summary>
public sealed class MatmulPeakBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "matmul-peak";

    /// <summary>Measures achieved FLOP/s of an n×n by n×n matmul in <paramref name="dtype"/> on the CPU.</summary>
    public static double MeasureFlops(int n, ScalarType dtype, int repetitions) => MeasureFlopsOn(CPU, n, dtype, repetitions);

    /// <summary>
    /// Measures achieved FLOP/s of an n×n by n×n matmul in <paramref name="dtype"/> on <paramref name="device"/>
    /// (on CUDA the clock is read after a synchronise at both ends; TF32 follows the current allow_tf32 setting).
    /// </summary>
    public static double MeasureFlopsOn(Device device, int n, ScalarType dtype, int repetitions)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n, device: device).to(dtype); // (n, n)
        var b = randn(n, n, device: device).to(dtype); // (n, n)
        using (matmul(a, b))
        {
        }

        Synchronize(device);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < repetitions; i++)
        {
            using var c = matmul(a, b); // (n, n)
        }

        Synchronize(device);
        watch.Stop();
        return 2.0 * n * n * n * repetitions / watch.Elapsed.TotalSeconds;
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        var n = context.Quick ? 512 : 2048;
        var reps = context.Quick ? 3 : 8;
        var f32 = MeasureFlops(n, ScalarType.Float32, reps);
        var bf16 = MeasureFlops(n, ScalarType.BFloat16, reps);
        return
        [
            new BenchmarkRow(Name, $"bf16 vs f32 matmul {n}³", $"{bf16 / 1e9:F1} GFLOP/s", $"{f32 / 1e9:F1} GFLOP/s", bf16 / f32, null),
        ];
    }
}
