using LlamaMoe.Benchmarks;
using LlamaMoe.Benchmarks.NoOpBuild;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Benchmarks.Tests;

public sealed class NoOpBuildBenchmarkTests
{
    [Test]
    public void OnlyNoopBuildSelectsTheMode()
    {
        Assert.That(NoOpBuildBenchmark.IsRequested(["--only", "noop-build"]), Is.True);
        Assert.That(NoOpBuildBenchmark.IsRequested(["--only", "moe-mlp"]), Is.False);
        Assert.That(NoOpBuildBenchmark.IsRequested(["noop-build"]), Is.False);
    }

    [Test]
    public void AnUnknownArgumentIsAUsageErrorWithTheModesUsage()
    {
        var log = new StringWriter();

        var exitCode = BenchmarkRunner.Run(["--only", "noop-build", "--repeat", "zero"], TextWriter.Null, log);

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain(NoOpBuildBenchmark.Usage));
    }

    [Test]
    public void ARepositoryThatWasNeverBuiltIsRefusedWithWhatToDo()
    {
        using var repo = new TempDirectory("llamamoe-noop");
        Directory.CreateDirectory(repo.Combine("recipes"));
        File.WriteAllText(repo.Combine("recipes", "tiny.yaml"), "name: tiny\n");
        var log = new StringWriter();

        var exitCode = BenchmarkRunner.Run(["--only", "noop-build", "--repo", repo.Path], TextWriter.Null, log);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(log.ToString(), Does.Contain("build it once first"));
    }
}
