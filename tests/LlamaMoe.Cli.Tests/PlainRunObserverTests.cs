using LlamaMoe.Cli.Rendering;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class PlainRunObserverTests
{
    [Test]
    public void PrintsStartAndFinishLinesAndThrottlesProgressToOneLineEveryTwoSeconds()
    {
        var writer = new StringWriter();
        var observer = new PlainRunObserver(writer);
        observer.StageStarted("train", "train", ["no previous run"]);
        for (var step = 1; step <= 1000; step++)
        {
            observer.StageProgress("train", new StepProgressUpdate(step, 1000, "training", new Dictionary<string, double> { ["loss"] = 1.0 / step }));
        }

        observer.StageFinished(new StageOutcome("train", StageStatus.Ran, "sha256:k", "sha256:0123456789abcdef0123", true, ["no previous run"], TimeSpan.FromSeconds(1.25)));
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "[train] start (train): no previous run",
            "[train] done in 1.2 s: sha256:0123456789ab",
        }));
    }

    [Test]
    public void DescribesProgressWithABarCountsMessageAndMetrics() =>
        Assert.That(PlainRunObserver.Describe(new StepProgressUpdate(3, 10, "epoch 1", new Dictionary<string, double> { ["loss"] = 2.5 })),
            Is.EqualTo("[######..............]  30% 3/10 epoch 1 loss=2.5"));

    [Test]
    public void DescribesProgressWithoutATotalAsAPlainCount() =>
        Assert.That(PlainRunObserver.Describe(new StepProgressUpdate(7, 0, "sequences", null)), Is.EqualTo("7 sequences"));

    [Test]
    public void TheBarIsFullAtTheLastStep() =>
        Assert.That(PlainRunObserver.Describe(new StepProgressUpdate(250, 250, "done", null)), Does.StartWith("[####################] 100% 250/250"));
}
