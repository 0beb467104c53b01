using NUnit.Framework;

namespace LlamaMoe.Benchmarks.Tests;

public sealed class BenchmarkSummaryTests
{
    [Test]
    public void EachAreaGetsOneLineWithItsRatioRangeAndTheCasesMeetingItsTarget()
    {
        BenchmarkRow[] rows =
        [
            new("moe-mlp", "fwd+bwd f32 grouped H=512", "1 tok/s", "1 tok/s", 0.9, 0.8),
            new("moe-mlp", "fwd+bwd bf16 grouped H=512", "1 tok/s", "1 tok/s", 0.7, 0.8),
            new("moe-mlp", "fwd+bwd f32 per-expert H=512", "1 tok/s", "1 tok/s", 0.4, null),
            new("conversion", "8B-shape 2 layers", "500 MB/s convert", "1000 MB/s file copy", 0.5, null),
            new("conversion", "peak RSS increase vs 2x one layer", "900 MB", "1000 MB", 0.9, 1.0),
            new("eval-throughput", "synthetic vs dense of equal active FLOPs I=344", "1 tok/s MoE", "1 tok/s dense equal", 0.85, 0.8),
            new("eval-throughput", "synthetic vs dense source I=1376", "1 tok/s MoE", "1 tok/s dense source", 1.6, null),
            new("new-bench", "something", "2 x", "1 x", 2.0, null),
        ];

        var lines = BenchmarkSummary.Summarize(rows);

        Assert.That(lines.Select(l => l.Area), Is.EqualTo(new[]
        {
            "MoE vs dense MLP, fwd+bwd (grouped dispatch; dense time / MoE time)",
            "MoE vs dense MLP, fwd+bwd (per-expert dispatch)",
            "evaluation tok/s, MoE vs dense of equal active FLOPs",
            "evaluation tok/s, MoE vs the dense model it came from",
            "conversion vs file copy (MB/s)",
            "conversion peak RSS vs 2x one layer (lower is better)",
            "new-bench",
        }));
        var grouped = lines[0];
        Assert.That((grouped.Minimum, grouped.Maximum, grouped.Cases, grouped.Target, grouped.Meeting), Is.EqualTo((0.7, 0.9, 2, (double?)0.8, 1)));
        Assert.That(lines[5].Meeting, Is.EqualTo(1), "peak RSS 0.9 meets the upper bound 1.0");
        var markdown = BenchmarkSummary.ToMarkdown(lines);
        Assert.That(markdown, Does.Contain("| MoE vs dense MLP, fwd+bwd (grouped dispatch; dense time / MoE time) | 0.70–0.90 | 2 | ≥ 0.80 | 1/2 |"));
        Assert.That(markdown, Does.Contain("| conversion peak RSS vs 2x one layer (lower is better) | 0.90 | 1 | ≤ 1.00 | 1/1 |"));
        Assert.That(markdown, Does.Contain("| new-bench | 2.00 | 1 |  |  |"));
    }

    [Test]
    public void TheSummaryOfNoRowsIsAnEmptyTable()
    {
        var lines = BenchmarkSummary.Summarize([]);
        Assert.That(lines, Is.Empty);
        Assert.That(BenchmarkSummary.ToMarkdown(lines).Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2));
    }
}
