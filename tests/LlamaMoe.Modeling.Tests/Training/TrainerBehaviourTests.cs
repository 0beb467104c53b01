using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class TrainerBehaviourTests
{
    [SetUp]
    public void SingleThread()
    {
        TorchRuntime.EnsureLoaded();
        set_num_threads(1);
    }

    [Test]
    public void ExpertLoadBecomesMoreEvenAsTheBalanceCoefficientGrows()
    {
        var maxLoad = new List<double>();
        foreach (var coefficient in new[] { 0.0, 0.1, 1.0 })
        {
            using var dir = new TempDirectory();
            var model = new TinyMoeLanguageModel(routerSkew: 3.0);
            var options = new TrainerOptions
            {
                OutputDirectory = dir.Path, MaxSteps = 40, BatchSize = 4, LearningRate = 2e-2, WarmupSteps = 0,
                BalanceLoss = BalanceLossKind.Switch, BalanceLossCoefficient = coefficient, Seed = 5,
            };
            var result = new Trainer(model, options).Train(TrainingFixtures.Data(examples: 48));
            var lastSteps = result.Steps.TakeLast(5).Select(s => s.Routing[0].MaxLoadFraction).Average();
            TestContext.Out.WriteLine($"coefficient {coefficient}: mean max-expert load over the last 5 steps {lastSteps:F4}; first step {result.Steps[0].Routing[0].MaxLoadFraction:F4}");
            maxLoad.Add(lastSteps);
        }

        Assert.That(maxLoad[1], Is.LessThan(maxLoad[0]));
        Assert.That(maxLoad[2], Is.LessThan(maxLoad[1]));
    }

    [Test]
    public void NonFiniteLossStopsWithLmoe3102AndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDirectory();
        var model = new PoisonedModel(new TinyMoeLanguageModel(), poisonFromCall: 3);
        var options = new TrainerOptions { OutputDirectory = dir.Path, MaxSteps = 6, BatchSize = 2, LearningRate = 1e-3, CheckpointEvery = 2, KeepCheckpoints = 1 };

        var ex = Assert.Throws<LlamaMoeException>(() => new Trainer(model, options).Train(TrainingFixtures.Data()));

        Assert.That(ex!.Code, Is.EqualTo("LMOE3102"));
        var checkpoints = Directory.GetDirectories(dir.Combine("checkpoints")).Select(Path.GetFileName).ToArray();
        Assert.That(checkpoints, Is.EqualTo(new[] { "step-00000002" }));
        Assert.That(File.Exists(dir.Combine("checkpoints", "step-00000002", "COMPLETE")), Is.True);
    }

    [Test]
    public void FrozenRoutersKeepTheirWeightsWhileExpertsTrain()
    {
        using var dir = new TempDirectory();
        var model = new TinyMoeLanguageModel();
        var before = Snapshot(model);
        var options = new TrainerOptions { OutputDirectory = dir.Path, MaxSteps = 3, BatchSize = 2, LearningRate = 1e-2, FreezeRouters = true, BalanceLoss = BalanceLossKind.Switch };

        new Trainer(model, options).Train(TrainingFixtures.Data());

        var after = Snapshot(model);
        Assert.That(after["block_sparse_moe.gate.weight"], Is.EqualTo(before["block_sparse_moe.gate.weight"]));
        Assert.That(after["block_sparse_moe.experts.0.w1.weight"], Is.Not.EqualTo(before["block_sparse_moe.experts.0.w1.weight"]));
    }

    [Test]
    public void TrainingOnlyAttentionLeavesEverythingElseUnchanged()
    {
        using var dir = new TempDirectory();
        var model = new TinyMoeLanguageModel();
        var before = Snapshot(model);
        var options = new TrainerOptions { OutputDirectory = dir.Path, MaxSteps = 2, BatchSize = 2, LearningRate = 1e-2, Trainable = ParameterGroup.Attention };

        new Trainer(model, options).Train(TrainingFixtures.Data());

        var after = Snapshot(model);
        foreach (var name in before.Keys)
        {
            var changed = !after[name].SequenceEqual(before[name]);
            Assert.That(changed, Is.EqualTo(ParameterClassifier.Classify(name) == ParameterGroup.Attention), name);
        }
    }

    [Test]
    public void BFloat16ComputeTrainsAndReturnsAFloat32Model()
    {
        using var dir = new TempDirectory();
        var model = new TinyMoeLanguageModel();
        var options = new TrainerOptions { OutputDirectory = dir.Path, MaxSteps = 12, BatchSize = 4, LearningRate = 1e-2, WarmupSteps = 1, Precision = ComputePrecision.BFloat16 };

        var result = new Trainer(model, options).Train(TrainingFixtures.Data());

        Assert.That(result.Steps[^1].LmLoss, Is.LessThan(result.Steps[0].LmLoss - 0.3));
        Assert.That(model.parameters().All(p => p.dtype == ScalarType.Float32), Is.True);
    }

    private static Dictionary<string, float[]> Snapshot(TinyMoeLanguageModel model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to_type(ScalarType.Float32).data<float>().ToArray());

    /// <summary>Returns NaN logits from the given forward call on.</summary>
    private sealed class PoisonedModel(TinyMoeLanguageModel inner, int poisonFromCall) : ICausalLanguageModel
    {
        private int calls;

        public nn.Module Module => inner;

        public IReadOnlyList<FeedForwardBlock> FeedForwardBlocks => inner.FeedForwardBlocks;

        public Device Device => inner.Device;

        public Tensor Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask)
        {
            var logits = inner.Forward(inputIds, positionIds, attentionMask);
            return ++calls >= poisonFromCall ? logits * float.NaN : logits;
        }
    }
}
