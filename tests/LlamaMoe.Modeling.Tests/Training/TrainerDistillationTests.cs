using LlamaMoe.Modeling.Training;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class TrainerDistillationTests
{
    [SetUp]
    public void SingleThread()
    {
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(1);
    }

    private static TrainerOptions Options(string folder, double weight = 0.5, int maxSteps = 6) => new()
    {
        OutputDirectory = folder,
        MaxSteps = maxSteps,
        BatchSize = 2,
        GradientAccumulationSteps = 2,
        LearningRate = 5e-3,
        WarmupSteps = 2,
        Seed = 11,
        Distillation = new DistillationSettings(weight, Temperature: 2.0, ChunkPositions: 7),
    };

    [Test]
    public void ATeacherEqualToTheStudentGivesZeroKlAndNoGradientFromIt()
    {
        using var dir = new TempDirectory();
        using var student = new TinyMoeLanguageModel();
        using var teacher = new TinyMoeLanguageModel(); // same seed: the same weights

        var result = new Trainer(student, Options(dir.Path, weight: 1.0, maxSteps: 1), teacher).Train(TrainingFixtures.Data());

        var first = result.Steps[0];
        Assert.That(first.DistillLoss, Is.EqualTo(0).Within(1e-6));
        Assert.That(first.Loss, Is.EqualTo(0).Within(1e-6));
        Assert.That(first.GradNorm, Is.EqualTo(0).Within(1e-5));
        Assert.That(first.LmLoss, Is.GreaterThan(1.0));
        Assert.That(File.ReadAllText(dir.Combine("metrics.jsonl")), Does.Contain("\"kd_loss\""));
    }

    [Test]
    public void DistillingPullsTheStudentTowardsTheTeacher()
    {
        using var dir = new TempDirectory();
        using var teacher = new TinyMoeLanguageModel(seed: 99);

        var result = new Trainer(new TinyMoeLanguageModel(), Options(dir.Path, weight: 1.0, maxSteps: 12), teacher).Train(TrainingFixtures.Data());

        Assert.That(result.Steps[^1].DistillLoss, Is.LessThan(result.Steps[0].DistillLoss!.Value * 0.8));
        Assert.That(result.Steps.Select(s => s.Loss), Is.EqualTo(result.Steps.Select(s => s.DistillLoss!.Value)).Within(1e-9));
    }

    [Test]
    public void ResumingADistilledRunReproducesTheUninterruptedRun()
    {
        using var straightDir = new TempDirectory();
        using var resumedDir = new TempDirectory();
        using var teacher = new TinyMoeLanguageModel(seed: 99);
        var data = TrainingFixtures.Data();

        var straight = new Trainer(new TinyMoeLanguageModel(), Options(straightDir.Path), teacher).Train(data);
        using var cancel = new CancellationTokenSource();
        var first = new Trainer(new TinyMoeLanguageModel(), Options(resumedDir.Path), teacher)
            .Train(data, p => { if (p.Step == 3) { cancel.Cancel(); } }, cancel.Token);
        var second = new Trainer(new TinyMoeLanguageModel(seed: 123), Options(resumedDir.Path), teacher).Train(data);

        Assert.That(second.StartStep, Is.EqualTo(3));
        var resumed = first.Steps.Concat(second.Steps).ToList();
        Assert.That(resumed.Select(s => s.Loss), Is.EqualTo(straight.Steps.Select(s => s.Loss)));
        Assert.That(resumed.Select(s => s.DistillLoss), Is.EqualTo(straight.Steps.Select(s => s.DistillLoss)));
        Assert.That(straight.Steps.All(s => s.DistillLoss > 0), Is.True);
    }

    [Test]
    public void ATeacherWithoutDistillationSettingsIsRefused()
    {
        using var dir = new TempDirectory();
        using var teacher = new TinyMoeLanguageModel();
        var options = Options(dir.Path) with { Distillation = null };

        var ex = Assert.Throws<LlamaMoeException>(() => new Trainer(new TinyMoeLanguageModel(), options, teacher));
        Assert.That(ex!.Code, Is.EqualTo("LMOE3101"));
    }
}
