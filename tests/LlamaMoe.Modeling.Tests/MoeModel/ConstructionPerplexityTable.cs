using System.Globalization;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.MoeModel;

/// <summary>
/// Prints the TinyStories mean NLL (700 stories, stories protocol) of stories260K dense and after conversion by every
/// split method, with random and k-means routers: E=4 top-2 (scale E/k = 2) and 1 residual + 3 routed top-1 (scale 1),
/// v2 routing (softmax renormalised over the top-k). Calibration: the first stories of the same file (1-600 range).
/// </summary>
[Explicit("prints the construction table for the report; about 5 minutes")]
public sealed class ConstructionPerplexityTable
{
    [TestCase(0)]
    [TestCase(1)]
    public void PrintTable(int configuration)
    {
        var output = Path.Combine(Path.GetTempPath(), $"llamamoe-construction-nll-table-{configuration}.md");
        TorchRuntime.EnsureLoaded();
        using var work = new TempDirectory("nll-table");
        var dense = work.Combine("dense");
        ModelImporter.Import(SharedData.Stories260KBin, dense, SharedData.Tok512Model);
        var tokenizer = TokenizerLoader.Load(dense);
        var stories = EvaluationCorpus.Stories(File.ReadAllText(SharedData.TinyStoriesValid), tokenizer);
        var calibrationSamples = LlamaMoe.Modeling.Calibration.CalibrationCorpus.Load(SharedData.TinyStoriesValid, "stories", tokenizer, maxLength: 256, maxSamples: 128);
        var c = CultureInfo.InvariantCulture;
        var lines = new List<string> { "| model | split | router | mean NLL | perplexity |", "|---|---|---|---:|---:|" };
        File.WriteAllText(output, string.Join("\n", lines) + "\n");
        if (configuration == 0)
        {
            using var model = CausalLanguageModelLoader.Load(dense);
            var result = PerplexityEvaluator.Evaluate(model, stories);
            lines.Add($"| dense | - | - | {result.MeanNll.ToString("F4", c)} | {result.Perplexity.ToString("F2", c)} |");
            File.AppendAllText(output, lines[^1] + "\n");
        }

        var configurations = new[] { ("E=4 top-2 (scale 2)", 4, 2, 0), ("1 residual + 3 routed top-1 (scale 1)", 3, 1, 1) };
        foreach (var (label, experts, topK, residual) in configurations.Skip(configuration).Take(1))
        {
            using var calibration = ConversionFixture.Calibrate(dense, experts, calibrationSamples, maxHiddenStates: 4096);
            foreach (var split in ConstructionOptions.SplitMethods.Where(s => residual == 0 || s != "sharing"))
            {
                foreach (var router in new[] { "random", "kmeans" })
                {
                    var options = new ConstructionOptions(experts, topK, split, router, residual, Seed: 1);
                    var moe = ConversionFixture.Convert(dense, work.Combine($"{experts}-{split}-{router}"), options, calibration);
                    using var model = CausalLanguageModelLoader.Load(moe);
                    var result = PerplexityEvaluator.Evaluate(model, stories);
                    lines.Add($"| {label} | {split} | {router} | {result.MeanNll.ToString("F4", c)} | {result.Perplexity.ToString("F2", c)} |");
                    File.AppendAllText(output, lines[^1] + "\n");
                }
            }
        }

        TestContext.Out.WriteLine(string.Join("\n", lines));
    }
}
