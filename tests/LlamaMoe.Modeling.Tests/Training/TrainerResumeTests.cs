using LlamaMoe.Modeling.Training;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class TrainerResumeTests
{
    [SetUp]
    public void SingleThread()
    {
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(1);
    }

    private static TrainerOptions Options(string folder) => new()
    {
        OutputDirectory = folder,
        MaxSteps = 6,
        BatchSize = 2,
        GradientAccumulationSteps = 2,
        LearningRate = 5e-3,
        WarmupSteps = 2,
        MinLearningRateRatio = 0.1,
        WeightDecay = 0.1,
        MaxGradNorm = 1.0,
        BalanceLoss = BalanceLossKind.Switch,
        BalanceLossCoefficient = 0.01,
        RouterZLossCoefficient = 0.001,
        Seed = 11,
    };

    [Test]
    public void ResumingAfterThreeStepsReproducesTheLossesOfAnUninterruptedSixStepRun()
    {
        using var straightDir = new TempDirectory();
        using var resumedDir = new TempDirectory();
        var data = TrainingFixtures.Data();

        var straight = new Trainer(new TinyMoeLanguageModel(), Options(straightDir.Path)).Train(data);

        using var cancel = new CancellationTokenSource();
        var first = new Trainer(new TinyMoeLanguageModel(), Options(resumedDir.Path))
            .Train(data, p => { if (p.Step == 3) { cancel.Cancel(); } }, cancel.Token);
        var second = new Trainer(new TinyMoeLanguageModel(seed: 123), Options(resumedDir.Path)).Train(data);

        Assert.That(first.Completed, Is.False);
        Assert.That(first.FinalStep, Is.EqualTo(3));
        Assert.That(second.StartStep, Is.EqualTo(3));
        Assert.That(second.Completed, Is.True);
        var straightLosses = straight.Steps.Select(s => s.Loss).ToArray();
        var resumedLosses = first.Steps.Concat(second.Steps).Select(s => s.Loss).ToArray();
        TestContext.Out.WriteLine("straight: " + string.Join(", ", straightLosses));
        TestContext.Out.WriteLine("resumed:  " + string.Join(", ", resumedLosses));
        Assert.That(resumedLosses, Is.EqualTo(straightLosses));
        Assert.That(straightLosses[^1], Is.LessThan(straightLosses[0]));
        Assert.That(File.ReadAllLines(resumedDir.Combine("metrics.jsonl")), Has.Length.EqualTo(6));
    }

    [Test]
    public void ResumingWithDifferentDataIsRefused()
    {
        using var dir = new TempDirectory();
        using var cancel = new CancellationTokenSource();
        new Trainer(new TinyMoeLanguageModel(), Options(dir.Path)).Train(TrainingFixtures.Data(), _ => cancel.Cancel(), cancel.Token);

        var ex = Assert.Throws<LlamaMoeException>(() => new Trainer(new TinyMoeLanguageModel(), Options(dir.Path)).Train(TrainingFixtures.Data(seed: 4)));
        Assert.That(ex!.Code, Is.EqualTo("LMOE3104"));
    }
}
