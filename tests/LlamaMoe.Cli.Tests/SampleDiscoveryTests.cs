using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>The sample plugin, built as its own project, is found by the CLI through a pipeline's 'plugins:' entry.</summary>
public sealed class SampleDiscoveryTests
{
    private static string SampleFolder => Path.Combine(RepositoryPaths.Root, "samples", "MagnitudeSplitter");

    private static string PluginFolder => Path.Combine(SampleFolder, "bin", RepositoryPaths.Configuration, "net10.0");

    [Test]
    public void PluginsListsTheSampleSplitterFromThePipelinesPluginsEntry()
    {
        var result = CliProcess.Run("plugins", "--plugins", PluginFolder);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain("split-mlp/magnitude (v2): Split MLP neurons into experts by the L2 norm"));
        Assert.That(result.Stdout, Does.Contain("from MagnitudeSplitter.dll"));
        Assert.That(result.Stdout, Does.Contain("mode").And.Contain("round-robin|contiguous"));
    }

    [Test]
    public void TheSamplePipelineRunsThroughTheCliAndPrintsTheLoadedAssembly()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(SampleFolder, "pipeline.yaml"), temp.Combine("pipeline.yaml"));
        Directory.CreateDirectory(temp.Combine("fixture", "tiny-mlp"));
        foreach (var file in Directory.GetFiles(Path.Combine(SampleFolder, "fixture", "tiny-mlp")))
        {
            File.Copy(file, temp.Combine("fixture", "tiny-mlp", Path.GetFileName(file)));
        }

        var run = CliProcess.Run("run", temp.Combine("pipeline.yaml"), "--plain", "--var", "plugin-dir=" + PluginFolder);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        Assert.That(run.Stdout, Does.Contain("plugins: loaded MagnitudeSplitter").And.Contain(Path.Combine(PluginFolder, "MagnitudeSplitter.dll")));
        Assert.That(File.Exists(temp.Combine("artifacts", "magnitude-sample", "split", "partition.json")), Is.True);

        var plan = CliProcess.Run("plan", temp.Combine("pipeline.yaml"), "--var", "plugin-dir=" + PluginFolder);
        Assert.That(plan.Stdout, Does.Contain("split: up to date"));
    }

    [Test]
    public void TheSamplePluginOutputCarriesNeitherTheContractsNorTorchSharp()
    {
        var files = Directory.GetFiles(PluginFolder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.That(files, Does.Contain("MagnitudeSplitter.dll"));
        Assert.That(files, Has.None.StartsWith("LlamaMoe.Pipeline"));
        Assert.That(files.Where(f => f!.Contains("torch", StringComparison.OrdinalIgnoreCase)), Is.Empty);
    }
}
