using LlamaMoe.Construction;
using System.Reflection;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Plugins.Construction;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class RandomSplitConformanceTests : SplitterConformanceTests
{
    protected override string PluginName => "split-mlp/random";

    protected override Assembly PluginAssembly => typeof(RandomSplitStep).Assembly;

    protected override string ValidOptions => "{ experts: 4, seed: 3, sizes: [7, 6, 6, 5] }";

    protected override int ExpectedExperts => 4;

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ experts: 0 }", "LMOE0053"),
        new("{ seed: 1 }", "LMOE0051"),
        new("{ experts: 4, sizes: [12, 12] }", "LMOE0055"),
        new("{ experts: 2, sizes: [24, 0] }", "LMOE0055"),
        new("{ experts: 2, sead: 1 }", "LMOE0050"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => TinyDenseModel.Write(directory, layers: 2));
}

public sealed class SequentialSplitConformanceTests : SplitterConformanceTests
{
    protected override string PluginName => "split-mlp/sequential";

    protected override Assembly PluginAssembly => typeof(SequentialSplitStep).Assembly;

    protected override string ValidOptions => "{ experts: 3 }";

    protected override int ExpectedExperts => 3;

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ experts: 2000 }", "LMOE0053"),
        new("{ experts: 3, sizes: [1, 2] }", "LMOE0055"),
        new("{ experts: 3, seed: 2 }", "LMOE0050"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => TinyDenseModel.Write(directory, layers: 2));
}

public sealed class ClusteringSplitConformanceTests : SplitterConformanceTests
{
    protected override string PluginName => "split-mlp/clustering";

    protected override Assembly PluginAssembly => typeof(ClusteringSplitStep).Assembly;

    protected override string ValidOptions => "{ experts: 4, weights: gate, iterations: 20 }";

    protected override int ExpectedExperts => 4;

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ experts: 4, weights: down }", "LMOE0054"),
        new("{ experts: 4, iterations: 0 }", "LMOE0053"),
        new("{ experts: 4, normalize: maybe }", "LMOE0052"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => TinyDenseModel.Write(directory, layers: 2));
}

public sealed class RandomRouterInitConformanceTests : StepConformanceTests
{
    protected override string PluginName => "router-init/random";

    protected override Assembly PluginAssembly => typeof(RandomRouterInitStep).Assembly;

    protected override string ValidOptions => "{ experts: 4 }";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ seed: 1 }", "LMOE0051"),
        new("{ experts: -1 }", "LMOE0053"),
        new("{ experts: 4, model: no-such-folder }", "LMOE0056"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => TinyDenseModel.Write(directory, layers: 2));
}

public sealed class BuildMoeConformanceTests : StepConformanceTests
{
    protected override string PluginName => "build-moe";

    protected override Assembly PluginAssembly => typeof(BuildMoeStep).Assembly;

    protected override string ValidOptions => "{ top-k: 2, contract-last: 1 }";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ top-k: 0 }", "LMOE0053"),
        new("{ routing-weights: argmax }", "LMOE0054"),
        new("{ scale-factor: 2, layer-scale-factors: [1, 1] }", "LMOE0055"),
        new("{ layer-scale-factors: [1, -1] }", "LMOE0055"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox)
    {
        string? dense = null;
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory =>
        {
            TinyDenseModel.Write(directory, layers: 3);
            dense = directory;
        });
        sandbox.AddInput("split", ArtifactKinds.ExpertPartition, directory =>
            new ModelPartition(24, Enumerable.Range(0, 3).Select(l => SimpleSplitStepTests.Partition(24, 4, l)).ToList()).Write(directory));
        sandbox.AddInput("router", ArtifactKinds.RouterWeights, directory => RouterFixtures.Write(directory, layers: 3, experts: 4, hidden: 16));
    }
}
