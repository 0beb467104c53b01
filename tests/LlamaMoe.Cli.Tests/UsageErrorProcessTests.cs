using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>Usage errors end with LMOE0920, exit code 2 and a hint to --help; --device cuda without a device exits 3.</summary>
public sealed class UsageErrorProcessTests
{
    private static IEnumerable<TestCaseData> UsageErrors()
    {
        yield return new TestCaseData(new[] { "run", "p.yaml", "--bogus" }, "--bogus").SetName("UnknownOptionIsLMOE0920");
        yield return new TestCaseData(new[] { "run" }, "pipeline.yaml").SetName("MissingArgumentIsLMOE0920");
        yield return new TestCaseData(new[] { "import", "x.bin" }, "--out").SetName("MissingRequiredOptionIsLMOE0920");
        yield return new TestCaseData(new[] { "generate", "m", "--seed", "seven" }, "--seed").SetName("NonNumericValueIsLMOE0920");
        yield return new TestCaseData(new[] { "eval", "m", "--data", "d", "--format", "csv" }, "csv").SetName("ValueOutsideTheChoicesIsLMOE0920");
        yield return new TestCaseData(new[] { "import", "x.bin", "--out", "a", "--out", "b" }, "--out").SetName("RepeatedSingleValueOptionIsLMOE0920");
        yield return new TestCaseData(new[] { "run", "p.yaml", "--until" }, "--until").SetName("OptionWithoutItsValueIsLMOE0920");
        yield return new TestCaseData(new[] { "eval", "m", "--data", "d", "--first", "-3" }, "--first must be at least 1").SetName("NegativeFirstIsLMOE0920");
        yield return new TestCaseData(new[] { "eval", "m", "--data", "d", "--shots", "-1" }, "--shots must be at least 0").SetName("NegativeShotsIsLMOE0920");
        yield return new TestCaseData(new[] { "eval", "m", "--data", "d", "--count", "0" }, "--count must be at least 1").SetName("CountZeroIsBlamedOnCount");
        yield return new TestCaseData(new[] { "generate", "m", "--max-new-tokens", "-5" }, "--max-new-tokens must be at least 1").SetName("NegativeMaxNewTokensIsLMOE0920");
        yield return new TestCaseData(new[] { "run", "p.yaml", "--device", "tpu" }, "tpu").SetName("UnknownDeviceIsLMOE0920");
        yield return new TestCaseData(new[] { "generat" }, "Did you mean 'generate'").SetName("UnknownCommandSuggestsTheNearestOne");
    }

    [TestCaseSource(nameof(UsageErrors))]
    public void UsageErrorExitsWith2AndLMOE0920(string[] args, string phrase)
    {
        var run = CliProcess.Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.Stderr);
            Assert.That(run.Stderr, Does.Contain("error " + CliUsageException.Code));
            Assert.That(run.Stderr, Does.Contain(phrase));
            Assert.That(run.Stderr, Does.Contain("--help"));
            Assert.That(run.Stderr, Does.Not.Contain("   at "), "no stack trace");
        });
        if (args.Length > 1 && args[0] != "generat")
        {
            Assert.That(run.Stderr, Does.Contain($"llama-moe {args[0]} --help"), "the hint names the command's own help");
        }
    }

    [Test]
    public void CountZeroIsNotBlamedOnFirst()
    {
        var run = CliProcess.Run("eval", "m", "--data", "d", "--count", "0");
        Assert.That(run.Stderr, Does.Not.Contain("--first"));
    }

    private static IEnumerable<TestCaseData> DeviceCommands()
    {
        yield return new TestCaseData((object)new[] { "run", "{p}" }).SetName("RunWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "plan", "{p}" }).SetName("PlanWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "validate", "{p}" }).SetName("ValidateWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "clean", "{p}" }).SetName("CleanWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "gc", "{p}" }).SetName("GcWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "eval", "{m}", "--data", "{p}" }).SetName("EvalWithCudaWithoutADeviceExits3");
        yield return new TestCaseData((object)new[] { "generate", "{m}", "--prompt", "x" }).SetName("GenerateWithCudaWithoutADeviceExits3");
    }

    [TestCaseSource(nameof(DeviceCommands))]
    public void DeviceCudaWithoutACudaDeviceExits3WithLMOE1020(string[] args)
    {
        Assume.That(File.Exists(Path.Combine(AppContext.BaseDirectory, "libtorch_cuda.so")), Is.False, "this machine's bundled libtorch has CUDA");
        using var dir = new TempDirectory("cli-cuda");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, "name: p\nstages:\n  data: { uses: data/synthetic, with: { people: 2, train-examples: 4, eval-examples: 2 } }\n");
        Directory.CreateDirectory(dir.Combine("m"));
        var run = CliProcess.Run([.. args.Select(a => a.Replace("{p}", pipeline, StringComparison.Ordinal).Replace("{m}", dir.Combine("m"), StringComparison.Ordinal)), "--device", "cuda"]);
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.RuntimeUnavailable), run.Stderr);
        Assert.That(run.Stderr, Does.Contain("error LMOE1020"));
    }
}
