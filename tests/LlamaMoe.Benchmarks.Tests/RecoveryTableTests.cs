using System.Text.Json.Nodes;
using LlamaMoe.Benchmarks.Recovery;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Benchmarks.Tests;

public sealed class RecoveryTableTests
{
    [TestCase(2.0, 6.0, 3.0, 0.75)]
    [TestCase(2.0, 6.0, 6.0, 0.0)]
    [TestCase(2.0, 6.0, 2.0, 1.0)]
    [TestCase(2.0, 6.0, 7.0, -0.25)]
    [TestCase(2.0, 6.0, 1.6, 1.1)]
    public void TheGapRecoveredIsTheShareOfConvertedMinusDenseThatTrainingCloses(double dense, double converted, double trained, double expected) =>
        Assert.That(RecoveryTable.GapRecovered(dense, converted, trained), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void WithNoConversionGapTheShareIsUndefined() =>
        Assert.That(RecoveryTable.GapRecovered(2.0, 2.0, 1.5), Is.NaN);

    [Test]
    public void TheReaderTakesEachRowsNllsFromTheEvaluationAndSumsItsTrainingTokensAndTimes()
    {
        var table = RecoveryTableReader.Read(Metrics(), null, Training, stage => stage switch
        {
            "a-s1" => 10, "a-s2" => 5, "a-s1kd" => 3, "a-s2kd" => 7, "b-warm" => 1, "b-s1" => 20, "b-s2" => 4, "b-s2kd" => 6, _ => null,
        }, new Dictionary<string, string> { ["a"] = "variant A" });

        Assert.That(table.HeldOut, Is.EqualTo("held-out"));
        Assert.That(table.Dense, Is.EqualTo(1.5));
        Assert.That(table.Rows.Select(r => r.Name), Is.EqualTo(new[] { "a", "b" }));
        var a = table.Rows[0];
        Assert.That((a.Description, a.Converted, a.Stage1, a.Stage2, a.Stage2Distilled), Is.EqualTo(("variant A", 5.5, 2.5, (double?)2.3, (double?)2.1)));
        Assert.That(a.TrainingTokens, Is.EqualTo((100 + 50 + 100 + 50) * 8 * 256L), "steps × batch × sequence length over s1, s2, s1kd and s2kd");
        Assert.That(a.TrainingSeconds, Is.EqualTo(25));
        var b = table.Rows[1];
        Assert.That(b.Description, Is.EqualTo("b"), "a row without a description is named by its stage prefix");
        Assert.That(b.TrainingTokens, Is.EqualTo((10 * 2 + 100 + 50 + 50) * 8 * 256L), "the router warm-up counts, with its gradient accumulation");
        Assert.That(b.TrainingSeconds, Is.EqualTo(31));
    }

    [Test]
    public void ARowWithAStageOfUnknownTimeHasNoWallTime()
    {
        var table = RecoveryTableReader.Read(Metrics(), "dense", Training, stage => stage == "a-s2" ? null : 1, new Dictionary<string, string>());

        Assert.That(table.Rows[0].TrainingSeconds, Is.Null);
        Assert.That(table.Rows[1].TrainingSeconds, Is.EqualTo(4));
        Assert.That(table.ToMarkdown(), Does.Contain("| 614,400 | – |"));
    }

    [Test]
    public void TheMarkdownShowsEachNllWithItsRecoveredShareAndNamesTheBestCell()
    {
        var table = RecoveryTableReader.Read(Metrics(), null, Training, _ => 1, new Dictionary<string, string> { ["a"] = "variant A" }, reference: "a");

        var markdown = table.ToMarkdown();

        // a: gap 4.0; s1 2.5 → 0.75, s2 2.3 → 0.8, s2kd 2.1 → 0.85. b: gap 2.0; s1 1.9 → 0.8, s2 absent, s2kd 1.6 → 0.95.
        Assert.That(markdown, Does.Contain("(dense 1.5000)"));
        Assert.That(markdown, Does.Contain("| variant A | 5.5000 | 2.5000 (0.750) | 2.3000 (0.800) | 2.1000 (0.850) | 614,400 | 4 s |"));
        Assert.That(markdown, Does.Contain("| b | 3.5000 | 1.9000 (0.800) | – | 1.6000 (0.950) | 450,560 | 4 s |"));
        Assert.That(markdown, Does.Contain("Best (lowest held-out NLL): b, stage 2 + distillation: 1.6000, 0.950 of its own gap, 0.975 of the gap of variant A (5.5000)."));
    }

    [Test]
    public void TheBestCellIsTheLowestNllEvenWhenAnotherRowRecoversMoreOfItsOwnGap()
    {
        var rows = new[]
        {
            new RecoveryRow("wide", "wide gap", 9.0, 2.2, null, null, 0, null), // 0.9 of its gap
            new RecoveryRow("narrow", "narrow gap", 3.0, 2.1, null, null, 0, null), // 0.45 of its gap
        };

        var best = new RecoveryTable("t", 1.0, rows).Best();

        Assert.That(best!.Value.Row.Name, Is.EqualTo("narrow"));
        Assert.That(best.Value.Recovered, Is.EqualTo(0.45).Within(1e-12));
        Assert.That(new RecoveryTable("t", 1.0, rows, "wide").ToMarkdown(), Does.Contain("0.450 of its own gap, 0.863 of the gap of wide gap (9.0000)."));
    }

    [Test]
    public void TheJsonHoldsTheSharesAndNullForAnAbsentPhase()
    {
        var json = RecoveryTableReader.Read(Metrics(), null, Training, _ => 2, new Dictionary<string, string>()).ToJson();

        var b = json["rows"]![1]!;
        Assert.That((double)b["stage2_distilled"]!["gap_recovered"]!, Is.EqualTo(0.95).Within(1e-12));
        Assert.That((double)b["stage1"]!["mean_nll"]!, Is.EqualTo(1.9));
        Assert.That(b["stage2"], Is.Null);
        Assert.That((double)b["training_seconds"]!, Is.EqualTo(8));
    }

    [Test]
    public void EarlierTimesAreReadByStageAndKeyFromAPreviousJson()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("recovery.json");
        File.WriteAllText(file, """{ "stages": [ { "stage": "a-s1", "key": "k1", "seconds": 12.5 }, { "stage": "a-s2", "key": "k2", "seconds": null } ] }""");

        var times = RecoveryBenchmark.EarlierTimes(file);

        Assert.That(times, Has.Count.EqualTo(1));
        Assert.That(times[("a-s1", "k1")], Is.EqualTo(12.5));
        Assert.That(RecoveryBenchmark.EarlierTimes(temp.Combine("missing.json")), Is.Empty);
    }

    [Test]
    public void AnEvaluationWithoutAMeanNllTaskIsRejected()
    {
        var metrics = JsonNode.Parse("""{ "baseline": "dense", "models": ["dense"], "tasks": [ { "task": "t", "metric": "accuracy", "values": { "dense": 1 } } ] }""")!.AsObject();

        Assert.That(() => RecoveryTableReader.Read(metrics, null, _ => null, _ => null, new Dictionary<string, string>()), Throws.InstanceOf<InvalidDataException>());
    }

    [Test]
    public void TheRunnerHandsOnlyRecoveryToTheRecoveryModeWhichRejectsUnknownFlags()
    {
        using var output = new StringWriter();
        using var log = new StringWriter();

        var exit = BenchmarkRunner.Run(["--only", "recovery", "--bogus"], output, log);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain("unknown or incomplete argument '--bogus'"));
        Assert.That(log.ToString(), Does.Contain(RecoveryBenchmark.Usage));
    }

    [Test]
    public void AMissingRecoveryPipelineIsAUsageErrorBeforeAnythingRuns()
    {
        using var temp = new TempDirectory();
        using var output = new StringWriter();
        using var log = new StringWriter();

        var exit = RecoveryBenchmark.Run(["--only", "recovery", "--pipeline", temp.Combine("absent.yaml"), "--out", temp.Combine("r.md")], output, log);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain("the recovery pipeline was not found"));
        Assert.That(File.Exists(temp.Combine("r.md")), Is.False);
    }

    private static JsonObject Metrics() => JsonNode.Parse("""
        {
          "baseline": "dense",
          "models": ["dense", "a-moe", "a-s1", "a-s2", "a-s2kd", "b-moe", "b-s1", "b-s2kd"],
          "tasks": [
            { "task": "held-out", "metric": "mean_nll",
              "values": { "dense": 1.5, "a-moe": 5.5, "a-s1": 2.5, "a-s2": 2.3, "a-s2kd": 2.1, "b-moe": 3.5, "b-s1": 1.9, "b-s2kd": 1.6 } },
            { "task": "held-out", "metric": "perplexity", "values": { "dense": 4.48 } }
          ]
        }
        """)!.AsObject();

    private static JsonObject? Training(string stage) => stage switch
    {
        "b-warm" => Run(10, 2),
        "a-s1" or "a-s1kd" or "b-s1" => Run(100, 1),
        "a-s2" or "a-s2kd" or "b-s2" or "b-s2kd" => Run(50, 1),
        _ => null,
    };

    private static JsonObject Run(int steps, int accumulation) =>
        new() { ["steps"] = steps, ["batch_size"] = 8, ["grad_accum"] = accumulation, ["seq_len"] = 256 };
}
