using System.Reflection;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace MagnitudeSplitter.Tests;

[TestFixture]
public sealed class MagnitudeSplitStepConformanceTests : SplitterConformanceTests
{
    protected override string PluginName => "split-mlp/magnitude";

    protected override Assembly PluginAssembly => typeof(MagnitudeSplitStep).Assembly;

    protected override string ValidOptions => "{ experts: 4, mode: round-robin, residual: 2 }";

    protected override int ExpectedExperts => 4;

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ experts: 0 }", "LMOE0053"),
        new("{ mode: round-robin }", "LMOE0051"),
        new("{ experts: 4, mode: sideways }", "LMOE0054"),
        new("{ experts: four }", "LMOE0052"),
        new("{ experts: 4, expert: 2 }", "LMOE0050"),
        new("{ experts: 4, mode: contiguous, residual: 1 }", "LMOE0055"),
        new("{ experts: 4, model: missing-folder }", "LMOE0056"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => MlpWeightsFolder.Write(directory, TinyModel.Random(layers: 3, hidden: 8, intermediate: 24, seed: 42)));
}
