using System.Text.Json;
using LlamaMoe.Benchmarks.SideBySide;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Benchmarks.Tests;

public sealed class SideBySideTests
{
    private const string BaselineLine =
        """{"system":"hf-transformers","model":"moe","precision":"float32","task":"train","tokens_per_second":1000.0,"step_ms":512.0,"attention":"sdpa","experts":"grouped_mm","steps":3,"warmup":1,"batch":4,"seq":128,"device":"fake gpu","versions":{"torch":"2.11"},"first_loss":5.8,"last_loss":5.7,"error":null}""";

    [Test]
    public void TheShapeDefaultsToSmallOnTheCpuAndFullOnCuda()
    {
        var cpu = SideBySideOptions.Parse(["--only", "side-by-side"], TextWriter.Null)!;
        var cuda = SideBySideOptions.Parse(["--only", "side-by-side", "--device", "cuda"], TextWriter.Null)!;

        Assert.That((cpu.Device, cpu.Shape.Name, cpu.Steps, cpu.Warmup), Is.EqualTo(("cpu", "small", 30, 5)));
        Assert.That((cuda.Shape.Name, cuda.Shape.Hidden, cuda.Shape.ExpertSize, cuda.Shape.TokensPerStep), Is.EqualTo(("full", 1024, 512, 16L * 1024)));
        Assert.That(cuda.Precisions, Is.EqualTo(new[] { BenchPrecision.Float32, BenchPrecision.TF32, BenchPrecision.BFloat16 }));
    }

    [Test]
    public void QuickShortensTheRunAndListsAreParsed()
    {
        var options = SideBySideOptions.Parse(
            ["--only", "side-by-side", "--device", "cuda", "--quick", "--precisions", "bfloat16,tf32", "--models", "moe", "--hf-attn", "sdpa,eager", "--no-hf"], TextWriter.Null)!;

        Assert.That((options.Shape.Name, options.Steps, options.Warmup, options.ProfileSteps), Is.EqualTo(("small", 3, 1, 2)));
        Assert.That(options.Precisions, Is.EqualTo(new[] { BenchPrecision.BFloat16, BenchPrecision.TF32 }));
        Assert.That((options.Models, options.BaselineAttention, options.SkipBaseline), Is.EqualTo((new[] { "moe" }, new[] { "sdpa", "eager" }, true)));
    }

    [Test]
    public void TrainingFlopsAreSixTimesActiveParametersPlusAttention()
    {
        var shape = TrainingShape.Full;
        Assert.That(shape.AttentionFlopsPerToken, Is.EqualTo(12.0 * 8 * 1024 * 1024));
        Assert.That(shape.TrainingFlopsPerToken(1000), Is.EqualTo(6000 + shape.AttentionFlopsPerToken));
    }

    [TestCase("--device", "tpu")]
    [TestCase("--precisions", "float16")]
    [TestCase("--models", "dense,sparse")]
    [TestCase("--steps", "0")]
    [TestCase("--shape", "huge")]
    public void BadArgumentsAreUsageErrors(params string[] args)
    {
        using var log = new StringWriter();
        Assert.That(BenchmarkRunner.Run(["--only", "side-by-side", .. args], TextWriter.Null, log), Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain("usage:"));
    }

    [Test]
    public void BaselineLinesParseAndOtherLinesAreIgnored()
    {
        var result = HfBaseline.Parse(BaselineLine)!;

        Assert.That((result.System, result.Model, result.Precision, result.Task, result.TokensPerSecond, result.StepMs), Is.EqualTo(("hf-transformers", "moe", "float32", "train", 1000.0, 512.0)));
        Assert.That((result.Attention, result.Experts, result.Device, result.Versions!["torch"], result.Error), Is.EqualTo(("sdpa", "grouped_mm", "fake gpu", "2.11", (string?)null)));
        Assert.That(HfBaseline.Parse("{not json"), Is.Null);
        Assert.That(HfBaseline.Parse("""{"shape":"small"}"""), Is.Null);
    }

    [Test]
    public void AQuickCpuRunRunsTheBaselineChildAndReportsBothSidesSideBySide()
    {
        using var temp = new TempDirectory();
        var script = temp.Combine("fake_baseline.sh"); // run by /bin/sh instead of Python: CI needs no Python
        File.WriteAllText(script, $"echo 'fake baseline starting' >&2\necho 'not a result line'\necho '{BaselineLine}'\n");
        var markdown = temp.Combine("out", "side.md");
        var json = temp.Combine("out", "side.jsonl");
        using var output = new StringWriter();
        using var log = new StringWriter();

        var exit = BenchmarkRunner.Run(
            ["--only", "side-by-side", "--device", "cpu", "--quick", "--threads", "1", "--models", "moe", "--precisions", "float32", "--profile-steps", "1",
             "--python", "/bin/sh", "--hf-baseline", script, "--out", markdown, "--json", json], output, log);

        Assert.That(exit, Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("fake baseline starting"));
        var report = File.ReadAllText(markdown);
        Assert.That(report, Is.EqualTo(output.ToString()));
        Assert.That(report, Does.Contain("experts_implementation grouped_mm").And.Contain("(fake gpu)"));
        Assert.That(report, Does.Match(@"\| moe \| float32 \| [\d,]+ \| [\d.]+ \| [\d.]+% \| [\d.]+% \| [\d.]+→[\d.]+ \| 1,000 \| [\d.]+% \| [\d.]+x \|"));
        Assert.That(report, Does.Match(@"\| moe \| float32 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \|"), "the phase profile row");
        Assert.That(report, Does.Contain("## Evaluation forward"));
        Assert.That(report, Does.Contain("## Generation (greedy, 8 prompts, 16 new tokens, bf16, KV cache)"));
        Assert.That(report, Does.Match(@"\| moe \| [\d,]+ \| [\d.]+ \([\d.]+\) \| – \| – \|"), "the generation row (no baseline generate line)");
        var lines = File.ReadAllLines(json).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("system").GetString()), Is.EqualTo(new[] { "llamamoe", "llamamoe", "llamamoe", "hf-transformers" }));
        Assert.That((lines[2].GetProperty("task").GetString(), lines[2].GetProperty("batch").GetInt32()), Is.EqualTo(("generate", 8)));
        Assert.That(lines[2].GetProperty("tokens_per_second").GetDouble(), Is.GreaterThan(0));
        Assert.That(lines[0].GetProperty("tokens_per_second").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void GenerationDefaultsFollowTheShapeAndCanBeChangedOrTurnedOff()
    {
        var full = SideBySideOptions.Parse(["--only", "side-by-side", "--device", "cuda"], TextWriter.Null)!;
        var quick = SideBySideOptions.Parse(["--only", "side-by-side", "--device", "cuda", "--quick"], TextWriter.Null)!;
        var set = SideBySideOptions.Parse(["--only", "side-by-side", "--generate-prompts", "3", "--generate-new-tokens", "5"], TextWriter.Null)!;
        var off = SideBySideOptions.Parse(["--only", "side-by-side", "--no-generate"], TextWriter.Null)!;

        Assert.That((full.Generate, full.GeneratePrompts, full.GenerateNewTokens), Is.EqualTo((true, 64, 128)));
        Assert.That((quick.GeneratePrompts, quick.GenerateNewTokens), Is.EqualTo((8, 16)));
        Assert.That((set.GeneratePrompts, set.GenerateNewTokens, off.Generate), Is.EqualTo((3, 5, false)));
        Assert.That(SideBySideOptions.Parse(["--only", "side-by-side", "--generate-new-tokens", "0"], TextWriter.Null), Is.Null);
    }

    [Test]
    public void GenerationPromptsAreSeededInRangeAndPassedToTheBaseline()
    {
        using var temp = new TempDirectory();
        var prompts = GenerationPrompts.Create(64, 128, 320);
        var path = temp.Combine("prompts.json");
        prompts.Write(path);
        var written = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        var options = SideBySideOptions.Parse(["--only", "side-by-side", "--device", "cuda"], TextWriter.Null)!;

        Assert.That(prompts.Prompts.Select(p => p.Count), Is.All.InRange(GenerationPrompts.MinLength, GenerationPrompts.MaxLength));
        Assert.That(prompts.Prompts.Select(p => p.Count).Distinct().Count(), Is.GreaterThan(10), "lengths vary");
        Assert.That(prompts.Prompts.SelectMany(p => p), Is.All.InRange(3, 319));
        Assert.That(GenerationPrompts.Create(64, 128, 320).Prompts, Is.EqualTo(prompts.Prompts), "seeded");
        Assert.That((written.GetProperty("new_tokens").GetInt32(), written.GetProperty("prompts").GetArrayLength()), Is.EqualTo((128, 64)));
        Assert.That(written.GetProperty("prompts")[5].EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(prompts.Prompts[5]));
        var arguments = HfBaseline.Arguments("hf_baseline.py", options, path);
        Assert.That(arguments.SkipWhile(a => a != "--generate-prompts").Take(4), Is.EqualTo(new[] { "--generate-prompts", path, "--generate-new-tokens", "128" }));
        Assert.That(HfBaseline.Arguments("hf_baseline.py", options), Does.Not.Contain("--generate-prompts"));
    }

    [Test]
    public void AMissingBaselineScriptIsReportedNotFatal()
    {
        var options = SideBySideOptions.Parse(["--only", "side-by-side", "--hf-baseline", "/no/such/hf_baseline.py"], TextWriter.Null)!;
        var run = HfBaseline.Run(options, TextWriter.Null);
        Assert.That(run.Results, Is.Empty);
        Assert.That(run.Note, Does.Contain("not found"));
    }
}
