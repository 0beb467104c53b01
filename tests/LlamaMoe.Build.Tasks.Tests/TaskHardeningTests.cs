using System.Diagnostics;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests;

/// <summary>
/// Issue 15, "the MSBuild task never ends with an unhandled exception": hostile CLI output and hostile task parameters
/// end as plain messages or coded errors (MSBuild's MSB4018 "task failed unexpectedly" with a stack trace never appears).
/// </summary>
public sealed class TaskHardeningTests
{
    private static IEnumerable<TestCaseData> HostileLines()
    {
        yield return new TestCaseData(new string(' ', 200_000) + "x").SetName("ALineOfManySpacesIsPlainTextQuickly");
        yield return new TestCaseData(new string(':', 200_000)).SetName("ALineOfManyColonsIsPlainTextQuickly");
        yield return new TestCaseData(string.Concat(Enumerable.Repeat("a(1,2) : ", 40_000))).SetName("ALineOfManyPositionsIsPlainTextQuickly");
        yield return new TestCaseData(new string('\t', 100_000) + ": warning" + new string(' ', 100_000)).SetName("AnAlmostDiagnosticWithHugeWhitespaceIsPlainTextQuickly");
        yield return new TestCaseData("p.yaml(99999999999999999999,1): error LMOE0012: x").SetName("AnOverflowingLineNumberIsReadAsNoPosition");
    }

    [TestCaseSource(nameof(HostileLines))]
    public void HostileOutputLinesNeverThrowAndParseInBoundedTime(string line)
    {
        var watch = Stopwatch.StartNew();
        _ = CanonicalDiagnostic.TryParse(line);
        _ = RunSummary.TryParse(line);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));

        using var host = new FakeCliHost(0, [line, "fake: 0 stage(s) ran, 1 up to date; artifacts in /tmp/a"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        Assert.DoesNotThrow(() => task.Execute());
        Assert.That(engine.Errors.Where(e => e.Code is null || !e.Code.StartsWith("LMOE", StringComparison.Ordinal)), Is.Empty);
        Assert.That(task.PipelineName, Is.EqualTo("fake"), "the lines after a hostile one are still read");
    }

    private static IEnumerable<TestCaseData> HostileParameters()
    {
        yield return new TestCaseData("StoreDir", "/tmp/a\0b").SetName("AStoreDirWithANulCharacterIsACodedError");
        yield return new TestCaseData("CliPath", "/tmp/a\0b").SetName("ACliPathWithANulCharacterIsACodedError");
        yield return new TestCaseData("PipelineFile", "\0").SetName("APipelineFileWithANulCharacterIsACodedError");
        yield return new TestCaseData("DotnetHostPath", "/no/such/dotnet\0").SetName("AHostPathWithANulCharacterIsACodedError");
    }

    [TestCaseSource(nameof(HostileParameters))]
    public void HostileParametersEndWithACodedErrorNotAnException(string property, string value)
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        typeof(RunLlamaMoePipeline).GetProperty(property)!.SetValue(task, value);
        var result = true;
        Assert.DoesNotThrow(() => result = task.Execute());
        Assert.That(result, Is.False);
        Assert.That(engine.Errors, Is.Not.Empty);
        Assert.That(engine.Errors.Select(e => e.Code), Has.All.StartWith("LMOE"));
        Assert.That(engine.Errors.Select(e => e.Message), Has.None.Contain("   at "), "no stack trace in the build log");
    }
}
