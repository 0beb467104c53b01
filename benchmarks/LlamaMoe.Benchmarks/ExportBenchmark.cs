using System.Diagnostics;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Diagnostics;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Synthetic;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Streaming export of MoE checkpoints with Llama-3-8B layer shapes (H 4096, I 14336, GQA 32/8, 4 layers, 2 with --quick,
/// bf16, small vocabulary), converted like the conversion benchmark: 8 experts top-2 to native, mixtral, llama-moe-v2 and
/// GGUF (llama, bf16); the residual variant (1 + 7 experts) to qwen2-moe and GGUF (qwen2moe, bf16); and the Mixtral export
/// read back to native. Each row is the export's peak RSS increase against twice one layer's weight bytes, measured the
/// way the conversion benchmark measures it.
/// </summary>
public sealed class ExportBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "export";

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        TorchRuntime.EnsureLoaded();
        var config = Llama3LayerShapes.Config(context.Quick);
        var root = Path.Combine(context.WorkDirectory, "export-benchmark");
        Directory.CreateDirectory(root);
        try
        {
            var dense = Path.Combine(root, "dense");
            RandomDenseCheckpoint.Write(dense, config, seed: 1, maxShardBytes: 1L << 30);
            var routed = Convert(dense, Path.Combine(root, "moe"), new ConstructionOptions(8, 2, "sequential", Seed: 1));
            // top-k = E: renormalised routing then equals qwen2moe's, so one directory serves both residual exports
            var residual = Convert(dense, Path.Combine(root, "residual"), new ConstructionOptions(7, 7, "sequential", ResidualExperts: 1, Seed: 1));
            var layerBytes = 2L * ((3L * config.HiddenSize * config.IntermediateSize) + (2L * config.HiddenSize * config.QueryWidth) + (2L * config.HiddenSize * config.KeyValueWidth));
            var bytes = Directory.GetFiles(routed, "*.safetensors").Sum(f => new FileInfo(f).Length);
            var rows = new List<BenchmarkRow>();
            var mixtral = Path.Combine(root, "out-mixtral");
            (string Source, string Format, string Output)[] cases =
            [
                (routed, "native", Path.Combine(root, "out-native")),
                (routed, "mixtral", mixtral),
                (routed, "llama-moe-v2", Path.Combine(root, "out-v2")),
                (routed, "gguf", Path.Combine(root, "out-llama.gguf")),
                (residual, "qwen2-moe", Path.Combine(root, "out-qwen2-moe")),
                (residual, "gguf", Path.Combine(root, "out-qwen2moe.gguf")),
                (mixtral, "native", Path.Combine(root, "out-from-mixtral")),
            ];
            foreach (var (source, format, output) in cases)
            {
                var watch = new Stopwatch();
                var peak = ProcessMemory.MeasurePeakIncrease(() =>
                {
                    watch.Start();
                    ModelExporter.Export(source, format, output, GgufTensorType.BF16);
                    watch.Stop();
                });
                var label = $"8B-shape {config.NumHiddenLayers} layers bf16 ({bytes / 1e9:F2} GB) {Path.GetFileName(source)} → {format}";
                rows.Add(new BenchmarkRow(Name, $"{label}: peak RSS increase vs 2x one layer ({bytes / watch.Elapsed.TotalSeconds / 1e6:F0} MB/s)",
                    $"{peak / 1e6:F0} MB", $"{2 * layerBytes / 1e6:F0} MB", (double)peak / (2 * layerBytes), 1.0));
                if (output != mixtral)
                {
                    Delete(output);
                }
            }

            return rows;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Convert(string dense, string output, ConstructionOptions options)
    {
        MoeConverter.Convert(dense, output, ConstructionPlanner.Plan(dense, options, null), ConstructionPlanner.ConversionOptions(options) with { MaxShardBytes = 1L << 30 });
        return output;
    }

    private static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
