using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Diagnostics;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>
/// A small version of the export benchmark's memory check: every export format (and every MoE reader) streams tensor by
/// tensor, so exporting a model several times larger than the bound keeps the peak RSS increase under two layers.
/// </summary>
public sealed class StreamingExportMemoryTests
{
    private const int Hidden = 512;
    private const int Intermediate = 4096;

    [Test]
    public void EveryExportFormatAndReaderPeaksBelowTwoLayers()
    {
        Assume.That(ProcessMemory.IsSupported && ProcessMemory.TryResetPeak(), "needs /proc/self/clear_refs (Linux)");
        TorchRuntime.EnsureLoaded();
        using var work = new TempDirectory("streaming-export-memory");
        var config = new LlamaConfig
        {
            VocabSize = 64, HiddenSize = Hidden, IntermediateSize = Intermediate, NumHiddenLayers = 6, NumAttentionHeads = 8, NumKeyValueHeads = 2,
            BosTokenId = 0, EosTokenIds = [1], TorchDtype = "float32",
        }.Validate();
        RandomDenseCheckpoint.Write(work.Combine("dense"), config, seed: 3);
        var routed = Convert(work.Combine("dense"), work.Combine("moe"), new ConstructionOptions(4, 2, "sequential"));
        var residual = Convert(work.Combine("dense"), work.Combine("residual"), new ConstructionOptions(3, 3, "sequential", ResidualExperts: 1));

        // Warm-up on a tiny model (JIT, torch start-up) through every path measured below.
        var tiny = work.Combine("tiny");
        RandomDenseCheckpoint.Write(tiny, config with { HiddenSize = 64, IntermediateSize = 256, NumHiddenLayers = 2 }, seed: 1);
        var tinyRouted = Convert(tiny, work.Combine("tiny-moe"), new ConstructionOptions(4, 2, "sequential"));
        var tinyResidual = Convert(tiny, work.Combine("tiny-residual"), new ConstructionOptions(3, 3, "sequential", ResidualExperts: 1));
        var cases = Cases(routed, residual, work.Combine("out")).ToList();
        foreach (var (source, format, output) in Cases(tinyRouted, tinyResidual, work.Combine("tiny-out")))
        {
            ModelExporter.Export(source, format, output);
        }

        var layerBytes = 4L * ((3L * Hidden * Intermediate) + (2L * Hidden * Hidden) + (2L * Hidden * (Hidden / 4)));
        var modelBytes = new DirectoryInfo(routed).GetFiles("*.safetensors").Sum(f => f.Length);
        Assert.That(modelBytes, Is.GreaterThan(4 * layerBytes), "the model is much larger than the bound, so holding it would fail the check");
        foreach (var (source, format, output) in cases)
        {
            var peak = ProcessMemory.MeasurePeakIncrease(() => ModelExporter.Export(source, format, output));
            TestContext.Out.WriteLine($"{Path.GetFileName(source)} -> {format}: peak increase {peak / 1e6:F1} MB (one layer {layerBytes / 1e6:F1} MB, model {modelBytes / 1e6:F1} MB)");
            Assert.That(peak, Is.LessThan(2 * layerBytes), $"{Path.GetFileName(source)} -> {format}");
        }
    }

    /// <summary>Every writer from a native directory, then every reader (Mixtral, LLaMA-MoE v2, Qwen2-MoE) back to native.</summary>
    private static IEnumerable<(string Source, string Format, string Output)> Cases(string routed, string residual, string root) =>
    [
        (routed, "native", Path.Combine(root, "native")),
        (routed, "mixtral", Path.Combine(root, "mixtral")),
        (routed, "llama-moe-v2", Path.Combine(root, "v2")),
        (routed, "gguf", Path.Combine(root, "llama.gguf")),
        (residual, "qwen2-moe", Path.Combine(root, "qwen2-moe")),
        (residual, "gguf", Path.Combine(root, "qwen2moe.gguf")),
        (Path.Combine(root, "mixtral"), "native", Path.Combine(root, "from-mixtral")),
        (Path.Combine(root, "v2"), "native", Path.Combine(root, "from-v2")),
        (Path.Combine(root, "qwen2-moe"), "native", Path.Combine(root, "from-qwen2-moe")),
    ];

    private static string Convert(string dense, string output, ConstructionOptions options)
    {
        MoeConverter.Convert(dense, output, ConstructionPlanner.Plan(dense, options, null), ConstructionPlanner.ConversionOptions(options));
        return output;
    }
}
