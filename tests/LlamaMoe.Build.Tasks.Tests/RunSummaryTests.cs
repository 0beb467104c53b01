using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests;

public sealed class RunSummaryTests
{
    [Test]
    public void ParsesTheCliSummaryLine()
    {
        var summary = RunSummary.TryParse("my model: 3 stage(s) ran, 2 up to date; artifacts in /repo/recipes/artifacts/my model");

        Assert.That(summary, Is.EqualTo(new RunSummary("my model", 3, 2, "/repo/recipes/artifacts/my model")));
        Assert.That(summary!.UpToDate, Is.False);
    }

    [Test]
    public void NoStageRunMeansUpToDate() =>
        Assert.That(RunSummary.TryParse("tiny: 0 stage(s) ran, 5 up to date; artifacts in /a")!.UpToDate, Is.True);

    [TestCase("[split] up to date: sha256:0123")]
    [TestCase("tiny: 0 stage(s) ran, 5 up to date")]
    [TestCase("tiny: 99999999999 stage(s) ran, 5 up to date; artifacts in /a")]
    [TestCase("")]
    public void OtherLinesAreNotSummaries(string line) => Assert.That(RunSummary.TryParse(line), Is.Null);
}
