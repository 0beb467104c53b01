using System.Diagnostics;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Modeling.Tokenization;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Perplexity-evaluation throughput (forward only, no grad, float32, the evaluate step's <see cref="PerplexityEvaluator"/>
/// with its default 8,192-token batches) of an MoE built by the real converter (sequential split, random router) against
/// (a) the dense model it came from and (b) a dense model of the same active FLOPs (intermediate k·I/E). Cases:
/// stories260K on TinyStories text (4 experts top-2) when <c>LLAMAMOE_DATA</c> holds it, and a synthetic ~20M-parameter
/// LLaMA (H 512, I 1376, 5 layers, vocabulary 4096, 8 experts top-2) on random tokens. The three models are timed
/// interleaved (round-robin, rotating which goes first) after one warm-up round; medians are compared, ratio = MoE tokens/s
/// over dense tokens/s.
/// </summary>
public sealed class EvalThroughputBenchmark : IBenchmark
{
    private const int MaxBatchTokens = 8192;

    /// <inheritdoc />
    public string Name => "eval-throughput";

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context)
    {
        TorchRuntime.EnsureLoaded();
        var root = Path.Combine(context.WorkDirectory, "eval-throughput");
        Directory.CreateDirectory(root);
        try
        {
            var rows = new List<BenchmarkRow>();
            if (StoriesFiles() is { } stories)
            {
                rows.AddRange(Measure(context, StoriesCase(Path.Combine(root, "stories"), stories, context.Quick)));
            }

            rows.AddRange(Measure(context, SyntheticCase(Path.Combine(root, "synthetic"), context.Quick)));
            return rows;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (string Bin, string Tokenizer, string Text)? StoriesFiles()
    {
        var data = Environment.GetEnvironmentVariable("LLAMAMOE_DATA");
        if (string.IsNullOrEmpty(data))
        {
            return null;
        }

        var files = (Path.Combine(data, "stories260K", "stories260K.bin"), Path.Combine(data, "stories260K", "tok512.model"), Path.Combine(data, "tinystories", "tinystories_valid_0001-0700.txt"));
        return File.Exists(files.Item1) && File.Exists(files.Item2) && File.Exists(files.Item3) ? files : null;
    }

    private static EvalCase StoriesCase(string folder, (string Bin, string Tokenizer, string Text) files, bool quick)
    {
        var dense = Path.Combine(folder, "dense");
        ModelImporter.Import(files.Bin, dense, files.Tokenizer);
        var tokenizer = TokenizerLoader.Load(dense);
        var budget = quick ? 4_096 : 16_384;
        var sequences = TakeTokens(EvaluationCorpus.Stories(File.ReadAllText(files.Text), tokenizer, maxLength: 512), budget);
        return new EvalCase("stories260K", folder, dense, 4, 2, sequences);
    }

    private static EvalCase SyntheticCase(string folder, bool quick)
    {
        var config = new LlamaConfig
        {
            VocabSize = 4096, HiddenSize = 512, IntermediateSize = 1376, NumHiddenLayers = 5, NumAttentionHeads = 8, NumKeyValueHeads = 8,
            MaxPositionEmbeddings = 1024, RmsNormEps = 1e-5, BosTokenId = 1, EosTokenIds = [2], TorchDtype = "float32",
        }.Validate();
        var dense = Path.Combine(folder, "dense");
        RandomDenseCheckpoint.Write(dense, config, seed: 1);
        var random = new DeterministicRandom(3);
        var (count, length) = quick ? (4, 256) : (16, 256);
        var sequences = Enumerable.Range(0, count)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, length).Select(t => t == 0 ? 1 : 3 + random.NextInt(config.VocabSize - 3)).ToArray())
            .ToList();
        return new EvalCase("synthetic 20M", folder, dense, 8, 2, sequences);
    }

    private IEnumerable<BenchmarkRow> Measure(BenchmarkContext context, EvalCase evalCase)
    {
        var config = LlamaConfigJson.Read(Path.Combine(evalCase.DenseDirectory, ModelDirectory.ConfigFileName));
        var options = new ConstructionOptions(evalCase.Experts, evalCase.TopK, "sequential", Seed: 1);
        var moeDirectory = Path.Combine(evalCase.Folder, "moe");
        MoeConverter.Convert(evalCase.DenseDirectory, moeDirectory, ConstructionPlanner.Plan(evalCase.DenseDirectory, options, null), ConstructionPlanner.ConversionOptions(options));
        var activeIntermediate = evalCase.TopK * (config.IntermediateSize / evalCase.Experts);
        var equalDirectory = Path.Combine(evalCase.Folder, "equal");
        RandomDenseCheckpoint.Write(equalDirectory, config with { IntermediateSize = activeIntermediate, TorchDtype = "float32" }, seed: 2);

        using var moe = CausalLanguageModelLoader.Load(moeDirectory, CPU, ScalarType.Float32);
        using var source = CausalLanguageModelLoader.Load(evalCase.DenseDirectory, CPU, ScalarType.Float32);
        using var equal = CausalLanguageModelLoader.Load(equalDirectory, CPU, ScalarType.Float32);
        var models = new[] { moe, source, equal };
        var rates = models.Select(_ => new List<double>()).ToArray();
        var rounds = context.Quick ? 2 : 5;
        for (var round = -1; round < rounds; round++)
        {
            for (var j = 0; j < models.Length; j++)
            {
                var m = (j + Math.Max(round, 0)) % models.Length; // rotate the order so no model always runs first
                var rate = TokensPerSecond(models[m], evalCase.Sequences);
                if (round >= 0)
                {
                    rates[m].Add(rate);
                }
            }
        }

        var (moeRate, sourceRate, equalRate) = (Median(rates[0]), Median(rates[1]), Median(rates[2]));
        var tokens = evalCase.Sequences.Sum(s => s.Count - 1);
        var what = $"{evalCase.Name} ppl eval f32 {tokens} tok, MoE E={evalCase.Experts} k={evalCase.TopK}";
        yield return new BenchmarkRow(Name, $"{what} vs dense source I={config.IntermediateSize}", $"{moeRate:F0} tok/s MoE", $"{sourceRate:F0} tok/s dense source", moeRate / sourceRate, null);
        yield return new BenchmarkRow(Name, $"{what} vs dense of equal active FLOPs I={activeIntermediate}", $"{moeRate:F0} tok/s MoE", $"{equalRate:F0} tok/s dense equal", moeRate / equalRate, 0.8);
    }

    private static double TokensPerSecond(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> sequences)
    {
        var watch = Stopwatch.StartNew();
        var result = PerplexityEvaluator.Evaluate(model, sequences, MaxBatchTokens);
        watch.Stop();
        return result.Tokens / watch.Elapsed.TotalSeconds;
    }

    private static List<IReadOnlyList<int>> TakeTokens(IReadOnlyList<IReadOnlyList<int>> sequences, int budget)
    {
        var taken = new List<IReadOnlyList<int>>();
        var total = 0;
        foreach (var sequence in sequences.Where(s => s.Count >= 2))
        {
            if (total >= budget)
            {
                break;
            }

            taken.Add(sequence);
            total += sequence.Count - 1;
        }

        return taken;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private sealed record EvalCase(string Name, string Folder, string DenseDirectory, int Experts, int TopK, IReadOnlyList<IReadOnlyList<int>> Sequences);
}
