using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Pipeline.Options;
using LlamaMoe.Plugins.Training;
using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Training.External;

[TestFixture]
public sealed class ExecutorOptionsTests
{
    private static string Train(string executor, string extra = "") =>
        $"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)} }} ], max-steps: 2, batch-size: 4, grad-accum: 2{extra}, executor: {executor} }}";

    private static List<string> Problems(string options)
    {
        using var sandbox = new ConformanceSandbox("train", typeof(TrainStep).Assembly);
        var result = sandbox.Load(options);
        return result.Diagnostics.Select(d => $"{d.Code} line {d.Line}: {d}").ToList();
    }

    [Test]
    public void ATorchrunExecutorWithAGlobalBatchThatSplitsOverTheWorldValidates() =>
        Assert.That(Problems(Train("{ kind: torchrun, nodes: 1, gpus-per-node: 8 }")), Is.Empty);

    [Test]
    public void AGlobalBatchThatDoesNotSplitOverTheWorldSizeIsRefusedAtTheExecutorKey()
    {
        var problems = Problems(Train("{ kind: slurm, nodes: 3, gpus-per-node: 1 }"));
        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.StartWith("LMOE0055 line 6").And.Contain("LMOE3401").And.Contain("world size of 3"));
    }

    [Test]
    public void AMicroBatchWhoseProductWithTheWorldDoesNotDivideTheGlobalBatchIsRefused() =>
        Assert.That(Problems(Train("{ kind: torchrun, gpus-per-node: 2, micro-batch: 3 }")), Has.One.Contains("LMOE3401").And.Contain("micro-batch 3"));

    [Test]
    public void ZeroShardingWithoutADeepSpeedPinIsRefusedAndAcceptedWithOne()
    {
        Assert.That(Problems(Train("{ kind: torchrun, sharding: zero1 }")), Has.One.Contains("LMOE3402"));
        Assert.That(Problems(Train("{ kind: torchrun, sharding: zero3, pins: { torch: \">=2.9\", deepspeed: \">=0.17\" } }")), Is.Empty);
    }

    [Test]
    public void LossesOnlyOurModelingHasAreRefusedForStockClasses()
    {
        Assert.That(Problems(Train("{ kind: torchrun }", ", balance-loss: cv2")), Has.One.Contains("LMOE3403").And.Contain("cv2"));
        Assert.That(Problems(Train("{ kind: torchrun }", ", z-loss: 0.001")), Has.One.Contains("LMOE3403").And.Contain("z-loss"));
        Assert.That(Problems(Train("{ kind: torchrun, modeling: llamamoe }", ", balance-loss: cv2, z-loss: 0.001")), Is.Empty);
    }

    [Test]
    public void TheLocalExecutorIgnoresTheExternalRules() =>
        Assert.That(Problems(Train("{ kind: local, gpus-per-node: 3, sharding: zero1 }", ", balance-loss: cv2")), Is.Empty);

    [Test]
    public void MicroBatchIsTheLargestDivisorOfTheRankShareUpToTheBatchSize()
    {
        var options = new TrainOptions { BatchSize = 4, GradAccum = 6 };
        Assert.That(ExecutorOptionChecks.MicroBatch(options, new TrainExecutorOptions { GpusPerNode = 8 }), Is.EqualTo(3));
        Assert.That(ExecutorOptionChecks.GradientAccumulation(options, new TrainExecutorOptions { GpusPerNode = 8 }), Is.EqualTo(1));
        Assert.That(ExecutorOptionChecks.GradientAccumulation(options, new TrainExecutorOptions { GpusPerNode = 2 }), Is.EqualTo(3));
        Assert.That(ExecutorOptionChecks.MicroBatch(options, new TrainExecutorOptions { GpusPerNode = 5 }), Is.Null);
    }

    [Test]
    public void LaunchOnlyFieldsStayOutOfTheStageKeyAndAnAbsentExecutorAddsNothing()
    {
        var plain = new TrainOptions { MaxSteps = 2 };
        Assert.That(OptionsCanonicalizer.ToCanonicalJson(plain, "/p"), Does.Not.Contain("executor"), "existing keys are unchanged");
        var small = new TrainOptions { MaxSteps = 2, Executor = new TrainExecutorOptions { Kind = TrainExecutorKind.Torchrun, GpusPerNode = 1 } };
        var big = new TrainOptions
        {
            MaxSteps = 2,
            Executor = new TrainExecutorOptions
            {
                Kind = TrainExecutorKind.Torchrun, Nodes = 4, GpusPerNode = 8, MicroBatch = 1, Retries = 9, OnCancel = TrainOnCancel.Detach,
                Slurm = new TrainSlurmOptions { Partition = "gpu", Account = "lab", Time = "1:00:00" },
                Storage = new TrainStorageOptions { OutputUri = "/scratch/out" },
            },
        };
        Assert.That(OptionsCanonicalizer.ToCanonicalJson(big, "/p"), Is.EqualTo(OptionsCanonicalizer.ToCanonicalJson(small, "/p")));
        var zero = new TrainOptions { MaxSteps = 2, Executor = new TrainExecutorOptions { Kind = TrainExecutorKind.Torchrun, Sharding = TrainSharding.Zero1 } };
        Assert.That(OptionsCanonicalizer.ToCanonicalJson(zero, "/p"), Is.Not.EqualTo(OptionsCanonicalizer.ToCanonicalJson(small, "/p")), "sharding is part of the key");
    }
}
