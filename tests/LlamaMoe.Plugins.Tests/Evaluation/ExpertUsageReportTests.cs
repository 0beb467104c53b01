using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Plugins.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Evaluation;

public sealed class ExpertUsageReportTests
{
    [Test]
    public void UsageFractionsEntropyHeatmapAndReportAreWritten()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var collector = new ExpertUsageCollector();
        // Layer 0: 4 tokens, top-1 → experts 0,0,0,1 → loads (0.75, 0.25, 0, 0). Uniform logits → entropy ln 4.
        collector.Add(RouterKind.Mlp, 0, zeros(4, 4), tensor(new long[] { 0, 0, 0, 1 }).reshape(4, 1));
        collector.Add(RouterKind.Mlp, 1, zeros(4, 4), tensor(new long[] { 0, 1, 2, 3 }).reshape(4, 1));
        collector.Add(RouterKind.Attention, 0, zeros(2, 2), tensor(new long[] { 0, 1 }).reshape(2, 1), tensor(new[] { true, true }));

        var mlp = collector.Statistics(RouterKind.Mlp);
        Assert.That(mlp[0].LoadFractions, Is.EqualTo(new[] { 0.75, 0.25, 0, 0 }).Within(1e-9));
        Assert.That(mlp[0].TokenEntropy, Is.EqualTo(Math.Log(4)).Within(1e-5));
        Assert.That(mlp[1].MaxLoadFraction, Is.EqualTo(0.25).Within(1e-9));
        Assert.That(collector.Kinds, Is.EqualTo(new[] { RouterKind.Mlp, RouterKind.Attention }));

        ExpertUsageHeatmap.Write(mlp, dir.Combine("experts_mlp.png"), "MLP expert load");
        EvaluationReport.Write(dir.Path, "tiny-moe",
            [new TaskScore("mmlu", "acc", 0.41, 100, Baseline: 0.5), new TaskScore("humaneval", "pass@1", null, 0, Note: "skipped: no sandbox")],
            new Dictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> { [RouterKind.Mlp] = mlp },
            [("MLP expert load", "experts_mlp.png")]);

        Assert.That(File.ReadAllBytes(dir.Combine("experts_mlp.png")).Take(4), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47 }));
        var report = File.ReadAllText(dir.Combine("report.md"));
        Assert.That(report, Does.Contain("| mmlu | acc | 0.4100 | 0.5000 | -0.0900 | 100 |  |"));
        Assert.That(report, Does.Contain("skipped: no sandbox"));
        Assert.That(report, Does.Contain("![MLP expert load](experts_mlp.png)"));
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.Combine("metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("expert_usage").GetProperty("mlp")[0].GetProperty("max_load").GetDouble(), Is.EqualTo(0.75).Within(1e-9));
    }

    [Test]
    public void NonFiniteScoresAndUsageAreWrittenAsNullAndNamedNotThrown()
    {
        using var dir = new TempDirectory();
        var usage = new LayerRoutingStatistics(0, [double.NaN, 1], double.NaN, 0);
        EvaluationReport.Write(dir.Path, "broken",
            [new TaskScore("perplexity", "perplexity", double.NaN, 2, Baseline: double.PositiveInfinity), new TaskScore("mmlu", "acc", double.NegativeInfinity, 4)],
            new Dictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> { [RouterKind.Mlp] = [usage] }, []);

        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.Combine("metrics.json")));
        var tasks = metrics.RootElement.GetProperty("tasks");
        Assert.That(tasks[0].GetProperty("value").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        Assert.That(tasks[0].GetProperty("baseline").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        Assert.That(tasks[0].GetProperty("non_finite").GetString(), Is.EqualTo("NaN"));
        Assert.That(tasks[1].GetProperty("non_finite").GetString(), Is.EqualTo("-Infinity"));
        var layer = metrics.RootElement.GetProperty("expert_usage").GetProperty("mlp")[0];
        Assert.That(layer.GetProperty("load")[0].ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        Assert.That(layer.GetProperty("token_entropy").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
    }
}
