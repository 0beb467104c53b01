using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Benchmarks.Tests;

public sealed class BenchmarkRunnerTests
{
    [Test]
    public void AQuickRunPrintsTheDetailsThenTheSummaryAndWritesBothToTheOutFile()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("results", "bench.md");
        using var output = new StringWriter();
        using var log = new StringWriter();

        var exit = BenchmarkRunner.Run(["--quick", "--only", "matmul-peak", "--threads", "1", "--out", file], output, log);

        Assert.That(exit, Is.EqualTo(0), log.ToString());
        var printed = output.ToString();
        Assert.That(printed, Does.StartWith("threads: 1 (quick)"));
        Assert.That(printed.IndexOf("| matmul-peak | bf16 vs f32 matmul 512³ |", StringComparison.Ordinal), Is.LessThan(printed.IndexOf("Summary", StringComparison.Ordinal)));
        Assert.That(printed.TrimEnd(), Does.Match(@"\| bf16 vs f32 matmul FLOP/s \| \d+\.\d\d \| 1 \|  \|  \|$"), "the output ends with the summary");
        var written = File.ReadAllText(file);
        Assert.That(written, Does.StartWith("# LlamaMoe benchmarks"));
        Assert.That(written.IndexOf("## Summary", StringComparison.Ordinal), Is.LessThan(written.IndexOf("## Details", StringComparison.Ordinal)));
        Assert.That(written, Does.Contain("| bf16 vs f32 matmul FLOP/s |"));
        Assert.That(Directory.GetFiles(temp.Combine("results")), Has.Length.EqualTo(1), "no temp file left behind");
    }

    [TestCase("--bogus")]
    [TestCase("--only", "no-such-benchmark")]
    [TestCase("--threads", "zero")]
    public void BadArgumentsAreUsageErrors(params string[] args)
    {
        using var output = new StringWriter();
        using var log = new StringWriter();
        Assert.That(BenchmarkRunner.Run(args, output, log), Is.EqualTo(2));
        Assert.That(output.ToString(), Is.Empty);
        Assert.That(log.ToString(), Does.Contain("matmul-peak").Or.Contain("usage:"));
    }

    [Test]
    public void EveryBenchmarkIsDiscoveredIncludingEvaluationThroughput() =>
        Assert.That(BenchmarkRunner.All().Select(b => b.Name), Is.SupersetOf(new[] { "conversion", "eval-throughput", "matmul-peak", "moe-mlp", "training-mfu" }));
}
