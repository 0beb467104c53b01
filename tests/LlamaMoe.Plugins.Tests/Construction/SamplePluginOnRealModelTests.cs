using LlamaMoe.Modeling.Formats;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class SamplePluginOnRealModelTests
{
    [Test]
    public async Task TheMagnitudeSampleSplitsStories260KThroughTheSafetensorsWeightSource()
    {
        using var temp = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, temp.Combine("dense"), SharedData.Tok512Model);
        var plugin = Path.Combine(RepositoryPaths.Root, "samples", "MagnitudeSplitter", "bin", RepositoryPaths.Configuration, "net10.0");
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, $$"""
            name: sample-real
            plugins: ["{{plugin}}"]
            stages:
              split:
                uses: split-mlp/magnitude
                with: { model: dense, experts: 4, residual: 12 }
            """);
        var partition = ModelPartition.Read(Path.Combine(artifacts, "split"));
        Assert.That(partition.Layers, Has.Count.EqualTo(5));
        Assert.That(partition.Intermediate, Is.EqualTo(172));
        Assert.That(partition.Layers.Select(l => l.Residual!.Length), Is.All.EqualTo(12));
        Assert.That(partition.Layers.Select(l => l.Problem()), Is.All.Null);
    }
}
