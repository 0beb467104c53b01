using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Training throughput of a ~20M-parameter MoE (2 layers, H=512, 8 experts of 512 top-2, vocabulary 4096) through
/// the real <see cref="Trainer"/> (AdamW, clipping, Switch balance loss), and its model FLOP utilisation:
/// <c>MFU = 6 · active parameters · tokens/s ÷ matmul FLOP/s</c>, the matmul peak measured in the same run in the same
/// dtype (<see cref="MatmulPeakBenchmark.MeasureFlops"/>), one peak sample after every training step (interleaved, so
/// both see the same machine load); the ratio uses the median step throughput (after two warm-up steps) over the median
/// peak sample. Active parameters exclude the embedding table and count routed experts k/E; attention-score FLOPs are
/// not counted (the usual 6N convention).
/// </summary>
public sealed class TrainingMfuBenchmark : IBenchmark
{
    private const int Experts = 8;
    private const int TopK = 2;

    /// <inheritdoc />
    public string Name => "training-mfu";

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        var rows = new List<BenchmarkRow>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        {
            foreach (var mode in new[] { ExpertDispatchMode.Auto, ExpertDispatchMode.PerExpert })
            {
                rows.Add(Measure(context, precision, mode));
            }
        }

        return rows;
    }

    private BenchmarkRow Measure(BenchmarkContext context, ComputePrecision precision, ExpertDispatchMode mode)
    {
        manual_seed(0);
        var (batch, sequence) = context.Quick ? (4, 128) : (16, 256);
        var steps = context.Quick ? 4 : 9;
        using var model = new BenchmarkMoeLanguageModel(vocabulary: 4096, hidden: 512, layerCount: 2, heads: 8, Experts, expertSize: 512, TopK);
        foreach (var block in model.FeedForwardBlocks.OfType<SparseMoeBlock>())
        {
            block.DispatchMode = mode;
        }

        var total = model.parameters().Sum(p => p.numel());
        var active = model.ActiveParameters(Experts, TopK);
        var random = new DeterministicRandom(1);
        var examples = Enumerable.Range(0, batch * (steps + 2))
            .Select(_ => EncodedExample.AllTargets(Enumerable.Range(0, sequence).Select(_ => random.NextInt(4096)).ToArray()))
            .ToList();
        var data = new TrainingData(SequencePacker.Build(examples, new PackingOptions(sequence, Pack: false)), Packed: false);
        var folder = Path.Combine(context.WorkDirectory, $"mfu-{precision}-{mode}");
        var options = new TrainerOptions
        {
            OutputDirectory = folder, MaxSteps = steps, BatchSize = batch, LearningRate = 1e-4, WarmupSteps = 1,
            BalanceLoss = BalanceLossKind.Switch, Precision = precision, Seed = 1,
        };
        var matmulType = precision == ComputePrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var peaks = new List<double>();
        var result = new Trainer(model, options).Train(data, _ => peaks.Add(MatmulPeakBenchmark.MeasureFlops(context.Quick ? 512 : 1024, matmulType, 3)));
        var tokensPerSecond = Median(result.Steps.Skip(2).Select(s => s.TokensPerSecond)); // the first steps include allocation warm-up
        var peak = Median(peaks.Skip(2));
        var achieved = 6.0 * active * tokensPerSecond;
        Directory.Delete(folder, recursive: true);
        return new BenchmarkRow(
            Name,
            $"{precision} {(mode == ExpertDispatchMode.Auto ? "grouped" : "per-expert")} dispatch: {total / 1e6:F1}M params ({active / 1e6:F1}M active), B={batch}, T={sequence}, {tokensPerSecond:F0} tok/s",
            $"{achieved / 1e9:F1} GFLOP/s (6·N·tok/s)",
            $"{peak / 1e9:F1} GFLOP/s matmul",
            achieved / peak,
            mode == ExpertDispatchMode.Auto ? 0.40 : null);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
