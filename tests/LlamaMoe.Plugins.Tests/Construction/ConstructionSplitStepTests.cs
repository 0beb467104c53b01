using LlamaMoe.Construction;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Construction;

/// <summary>The built-in split steps run the registered construction methods with the one seed rule and the residual option.</summary>
public sealed class ConstructionSplitStepTests
{
    [Test]
    public async Task SplitsThatReadNoWeightsNeverOpenTheCheckpoint()
    {
        using var temp = new TempDirectory();
        TorchRuntime.EnsureLoaded();
        TinyDenseModel.Write(temp.Combine("dense"), layers: 2, hidden: 16, intermediate: 24);
        File.Delete(temp.Combine("dense", "model.safetensors"));

        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: no-weights
            stages:
              random:
                uses: split-mlp/random
                with: { model: dense, experts: 3, residual: 1 }
              sequential:
                uses: split-mlp/sequential
                with: { model: dense, experts: 4 }
            """);

        Assert.That(ModelPartition.Read(Path.Combine(artifacts, "random")).Layers, Has.Count.EqualTo(2));
        Assert.That(ModelPartition.Read(Path.Combine(artifacts, "sequential")).Layers, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task ResidualOptionGivesEverySimpleSplitAResidualExpertOfOneShare()
    {
        using var temp = new TempDirectory();
        TorchRuntime.EnsureLoaded();
        TinyDenseModel.Write(temp.Combine("dense"), layers: 2, hidden: 16, intermediate: 24);

        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: residual
            stages:
              sequential:
                uses: split-mlp/sequential
                with: { model: dense, experts: 3, residual: 1 }
              clustering:
                uses: split-mlp/clustering
                with: { model: dense, experts: 3, residual: 1, iterations: 20 }
            """);

        foreach (var stage in new[] { "sequential", "clustering" })
        {
            var layer = ModelPartition.Read(Path.Combine(artifacts, stage)).Layers[1];
            Assert.That(layer.Problem(), Is.Null, stage);
            Assert.That(layer.Residual, Has.Length.EqualTo(6), $"{stage}: one share of 24/(3+1)");
            Assert.That(layer.Experts.Select(e => e.Length), Is.All.EqualTo(6), stage);
        }

        Assert.That(ModelPartition.Read(Path.Combine(artifacts, "sequential")).Layers[0].Residual, Is.EqualTo(Enumerable.Range(18, 6)), "without calibration the last share is the residual");
    }

    [Test]
    public async Task StepsWithoutASeedUseThePipelineSeedByTheSameLayerRule()
    {
        using var temp = new TempDirectory();
        TorchRuntime.EnsureLoaded();
        TinyDenseModel.Write(temp.Combine("dense"), layers: 3, hidden: 16, intermediate: 24);

        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: seeds
            seed: 5
            stages:
              unseeded:
                uses: split-mlp/random
                with: { model: dense, experts: 4 }
              seeded:
                uses: split-mlp/random
                with: { model: dense, experts: 4, seed: 5 }
              other:
                uses: split-mlp/random
                with: { model: dense, experts: 4, seed: 6 }
            """);

        var unseeded = ModelPartition.Read(Path.Combine(artifacts, "unseeded")).Layers;
        var seeded = ModelPartition.Read(Path.Combine(artifacts, "seeded")).Layers;
        var other = ModelPartition.Read(Path.Combine(artifacts, "other")).Layers;
        Assert.That(unseeded.Select(l => l.Experts.SelectMany(e => e)), Is.EqualTo(seeded.Select(l => l.Experts.SelectMany(e => e))));
        Assert.That(other[0].Experts.SelectMany(e => e), Is.Not.EqualTo(seeded[0].Experts.SelectMany(e => e)));
        Assert.That(seeded[1].Experts.SelectMany(e => e), Is.Not.EqualTo(seeded[0].Experts.SelectMany(e => e)), "every layer has its own seed");
        Assert.That(ConstructionSeed.ForLayer(1, 0), Is.Not.EqualTo(ConstructionSeed.ForLayer(0, 1)), "seed 1 layer 0 is not seed 0 layer 1");
    }
}
