using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace MagnitudeSplitter.Tests;

public sealed class SamplePipelineTests
{
    [Test]
    public async Task TheSamplePipelineSplitsTheFixtureModelThroughItsPluginsEntry()
    {
        using var temp = new TempDirectory();
        var sample = Path.Combine(RepositoryPaths.Root, "samples", "MagnitudeSplitter");
        File.Copy(Path.Combine(sample, "pipeline.yaml"), temp.Combine("pipeline.yaml"));
        Directory.CreateDirectory(temp.Combine("fixture", "tiny-mlp"));
        foreach (var file in Directory.GetFiles(Path.Combine(sample, "fixture", "tiny-mlp")))
        {
            File.Copy(file, temp.Combine("fixture", "tiny-mlp", Path.GetFileName(file)));
        }

        var pluginDirectory = Path.Combine(sample, "bin", RepositoryPaths.Configuration, "net10.0");
        var settings = new PipelineLoadSettings { VariableOverrides = new Dictionary<string, string> { ["plugin-dir"] = pluginDirectory } };
        var pipeline = PipelineLoader.Load(temp.Combine("pipeline.yaml"), settings).EnsureValid();
        Assert.That(pipeline.Stage("split").Plugin.Name, Is.EqualTo("split-mlp/magnitude"));

        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        var outcomes = await new PipelineRunner(pipeline, services).RunAsync();
        Assert.That(outcomes.Select(o => o.Status), Is.All.EqualTo(StageStatus.Ran));

        var partition = ModelPartition.Read(temp.Combine("artifacts", "magnitude-sample", "split"));
        Assert.That(partition.Layers, Has.Count.EqualTo(2));
        Assert.That(partition.Intermediate, Is.EqualTo(16));
        foreach (var layer in partition.Layers)
        {
            Assert.That(layer.Experts, Has.Count.EqualTo(4));
            Assert.That(layer.Experts.Select(e => e.Length), Is.All.EqualTo(4));
            Assert.That(layer.Problem(), Is.Null);
        }

        var chunks = ModelPartition.Read(temp.Combine("artifacts", "magnitude-sample", "split-chunks"));
        Assert.That(chunks.Layers[0].Experts, Has.Count.EqualTo(2));
    }
}
