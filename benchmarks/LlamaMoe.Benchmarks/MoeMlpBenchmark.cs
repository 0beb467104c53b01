using System.Diagnostics;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Forward+backward throughput of the MoE MLP block (E = 8, top-2, experts of I/8 neurons) against a dense SwiGLU
/// with the same active FLOPs (intermediate 2·I/8), at 4,096 tokens, I = 2.6875·H (Llama-2's ratio: 1376 for
/// H = 512, 2752 for H = 1024). The ratio is dense time over MoE time (1.0 = MoE as fast as its dense equivalent);
/// all variants are timed interleaved (round-robin, rotating which goes first) in the same run after two warm-up
/// rounds, and medians are compared. Each timed step directly follows an untimed step of the same variant, as in a
/// training loop where every step has the same shapes (so no variant is charged for re-warming memory that the
/// previous variant used). A second row per case reports the per-expert dispatch (the fallback path)
/// against the same dense baseline, so the grouped dispatch's gain is visible in the same measurement.
/// </summary>
public sealed class MoeMlpBenchmark : IBenchmark
{
    private const int Experts = 8;
    private const int TopK = 2;

    /// <inheritdoc />
    public string Name => "moe-mlp";

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        var tokens = context.Quick ? 1024 : 4096;
        var repetitions = context.Quick ? 3 : 11;
        var rows = new List<BenchmarkRow>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            foreach (var hidden in context.Quick ? new[] { 512 } : new[] { 512, 1024 })
            {
                rows.AddRange(Measure(hidden, tokens, dtype, repetitions));
            }
        }

        return rows;
    }

    private IEnumerable<BenchmarkRow> Measure(int hidden, int tokens, ScalarType dtype, int repetitions)
    {
        var intermediate = (int)Math.Round(2.6875 * hidden);
        var expertSize = intermediate / Experts;
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var moe = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(hidden, Experts, expertSize, TopK, scaleFactor: Experts / (double)TopK));
        using var dense = new ExpertMlp(hidden, TopK * expertSize);
        moe.to(dtype);
        dense.to(dtype);
        var input = randn(tokens, hidden).to(dtype); // (T, H)
        var variants = new (string Name, Func<double> Run)[]
        {
            ("grouped", () => { moe.DispatchMode = ExpertDispatchMode.Auto; return Step(moe, input); }),
            ("per-expert", () => { moe.DispatchMode = ExpertDispatchMode.PerExpert; return Step(moe, input); }),
            ("dense", () => Step(dense, input)),
        };
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = -2; round < repetitions; round++)
        {
            for (var j = 0; j < variants.Length; j++)
            {
                var v = (j + Math.Max(round, 0)) % variants.Length; // rotate the order so no variant always runs first
                variants[v].Run(); // the untimed step of the same shapes
                var seconds = variants[v].Run();
                if (round >= 0)
                {
                    times[v].Add(seconds);
                }
            }
        }

        var denseMedian = Median(times[2]);
        var typeName = dtype == ScalarType.BFloat16 ? "bf16" : "f32";
        for (var v = 0; v < 2; v++)
        {
            var median = Median(times[v]);
            yield return new BenchmarkRow(
                Name,
                $"fwd+bwd {typeName} {variants[v].Name} H={hidden} I={intermediate} T={tokens} E={Experts} k={TopK} vs dense I={TopK * expertSize}",
                $"{tokens / median:F0} tok/s MoE",
                $"{tokens / denseMedian:F0} tok/s dense",
                denseMedian / median,
                v == 0 ? 0.8 : null);
        }
    }

    private static double Step(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var watch = Stopwatch.StartNew();
        var output = module.forward(input); // (T, H)
        output.sum().backward();
        watch.Stop();
        return watch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
