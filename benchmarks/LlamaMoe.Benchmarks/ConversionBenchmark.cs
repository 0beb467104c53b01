using System.Diagnostics;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Diagnostics;
using LlamaMoe.Modeling.Synthetic;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Streaming dense→MoE conversion of a synthetic checkpoint with Llama-3-8B layer shapes (H 4096, I 14336, GQA 32/8,
/// 4 layers, 2 with --quick, bf16, small vocabulary): conversion throughput against a plain copy of the same files, and the
/// conversion's peak RSS increase against twice one layer's weight bytes.
/// </summary>
public sealed class ConversionBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "conversion";

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        TorchRuntime.EnsureLoaded();
        var config = Llama3LayerShapes.Config(context.Quick);
        var root = Path.Combine(context.WorkDirectory, "conversion-benchmark");
        Directory.CreateDirectory(root);
        try
        {
            var dense = Path.Combine(root, "dense");
            RandomDenseCheckpoint.Write(dense, config, seed: 1, maxShardBytes: 1L << 30);
            var files = Directory.GetFiles(dense, "*.safetensors");
            var bytes = files.Sum(f => new FileInfo(f).Length);

            var copy = Path.Combine(root, "copy");
            Directory.CreateDirectory(copy);
            var copyWatch = Stopwatch.StartNew();
            foreach (var file in files)
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
            }

            copyWatch.Stop();
            Directory.Delete(copy, recursive: true);

            var options = new ConstructionOptions(8, 2, "sequential", Seed: 1);
            var plans = ConstructionPlanner.Plan(dense, options, null);
            var convertWatch = new Stopwatch();
            var peak = ProcessMemory.MeasurePeakIncrease(() =>
            {
                convertWatch.Start();
                MoeConverter.Convert(dense, Path.Combine(root, "moe"), plans, ConstructionPlanner.ConversionOptions(options) with { MaxShardBytes = 1L << 30 });
                convertWatch.Stop();
            });
            var layerBytes = 2L * ((3L * config.HiddenSize * config.IntermediateSize) + (2L * config.HiddenSize * config.QueryWidth) + (2L * config.HiddenSize * config.KeyValueWidth));
            var convertRate = bytes / convertWatch.Elapsed.TotalSeconds;
            var copyRate = bytes / copyWatch.Elapsed.TotalSeconds;
            return
            [
                new BenchmarkRow(Name, $"8B-shape {config.NumHiddenLayers} layers bf16 ({bytes / 1e9:F2} GB) → 8 experts", $"{convertRate / 1e6:F0} MB/s convert", $"{copyRate / 1e6:F0} MB/s file copy", convertRate / copyRate, null),
                new BenchmarkRow(Name, "peak RSS increase vs 2x one layer", $"{peak / 1e6:F0} MB", $"{2 * layerBytes / 1e6:F0} MB", (double)peak / (2 * layerBytes), 1.0),
            ];
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
