using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Tests.TestPlugins;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

/// <summary>
/// Every file in TestData/Invalid is a broken pipeline; its sidecar NAME.expected lists the exact diagnostics
/// (<c>CODE (line,col): message | advice</c>), all of them, in order. Set LLAMAMOE_UPDATE_GOLDENS=1 to rewrite sidecars.
/// </summary>
public sealed class InvalidPipelineTests
{
    private static string Folder => Path.Combine(RepositoryPaths.Root, "tests", "LlamaMoe.Pipeline.Tests", "TestData", "Invalid");

    public static IEnumerable<TestCaseData> Cases() =>
        Directory.EnumerateFiles(Folder, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("Invalid_" + Path.GetFileNameWithoutExtension(f)));

    [Test]
    public void ThereAreAtLeastTwentyFiveInvalidPipelines() => Assert.That(Cases().Count(), Is.GreaterThanOrEqualTo(25));

    [TestCaseSource(nameof(Cases))]
    public void ReportsTheGoldenDiagnostics(string fileName)
    {
        var path = Path.Combine(Folder, fileName);
        var settings = new PipelineLoadSettings { Environment = name => name == "LLAMAMOE_SURELY_UNSET_VARIABLE" ? null : Environment.GetEnvironmentVariable(name) };
        var result = PipelineLoader.Load(path, settings, [typeof(WriteStep).Assembly]);
        var actual = result.Diagnostics.Select(d =>
        {
            Assert.That(d.File, Is.EqualTo(path), "every diagnostic names the pipeline file");
            return $"{d.Code} ({d.Line},{d.Column}): {d.Message.Replace(Folder, "<dir>", StringComparison.Ordinal)}" + (d.Advice is null ? string.Empty : " | " + d.Advice);
        }).ToList();
        var goldenPath = Path.ChangeExtension(path, ".expected");
        if (Environment.GetEnvironmentVariable("LLAMAMOE_UPDATE_GOLDENS") == "1")
        {
            File.WriteAllLines(goldenPath, actual);
        }

        Assert.That(result.Pipeline, Is.Null, "an invalid pipeline yields no pipeline");
        Assert.That(actual, Is.Not.Empty);
        Assert.That(actual, Is.EqualTo(File.ReadAllLines(goldenPath)));
    }
}
