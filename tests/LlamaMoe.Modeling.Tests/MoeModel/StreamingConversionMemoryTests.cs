using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Diagnostics;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.MoeModel;

/// <summary>A small version of the conversion benchmark's memory check: the converter streams, it never holds the model.</summary>
public sealed class StreamingConversionMemoryTests
{
    [Test]
    public void ConversionPeakMemoryStaysBelowTwoLayers()
    {
        Assume.That(ProcessMemory.IsSupported && ProcessMemory.TryResetPeak(), "needs /proc/self/clear_refs (Linux)");
        TorchRuntime.EnsureLoaded();
        using var work = new TempDirectory("streaming-memory");
        var config = new LlamaConfig
        {
            VocabSize = 64, HiddenSize = 512, IntermediateSize = 4096, NumHiddenLayers = 6, NumAttentionHeads = 8, NumKeyValueHeads = 2,
            BosTokenId = 0, EosTokenIds = [1], TorchDtype = "float32",
        }.Validate();
        RandomDenseCheckpoint.Write(work.Combine("dense"), config, seed: 3);
        var options = new ConstructionOptions(4, 2, "sequential");
        var plans = ConstructionPlanner.Plan(work.Combine("dense"), options, null);
        // Warm-up on a tiny model (JIT, torch start-up): the measured run's large buffers are not pre-pooled by it.
        var tiny = ConversionFixture.SaveRandomDense(work.Combine("tiny"), ConversionFixture.RandomLlama3(), seed: 1);
        MoeConverter.Convert(tiny, work.Combine("tiny-moe"), ConstructionPlanner.Plan(tiny, options, null), ConstructionPlanner.ConversionOptions(options));

        var peak = ProcessMemory.MeasurePeakIncrease(() =>
            MoeConverter.Convert(work.Combine("dense"), work.Combine("moe"), plans, ConstructionPlanner.ConversionOptions(options)));
        var layerBytes = 4L * ((3L * 512 * 4096) + (2L * 512 * 512) + (2L * 512 * 128));
        var modelBytes = new DirectoryInfo(work.Combine("dense")).GetFiles("*.safetensors").Sum(f => f.Length);
        TestContext.Out.WriteLine($"peak increase {peak / 1e6:F1} MB, one layer {layerBytes / 1e6:F1} MB, model {modelBytes / 1e6:F1} MB");
        Assert.That(peak, Is.LessThan(2 * layerBytes));
        Assert.That(modelBytes, Is.GreaterThan(4 * layerBytes), "the model is much larger than the bound, so holding it would fail the check");
    }
}
