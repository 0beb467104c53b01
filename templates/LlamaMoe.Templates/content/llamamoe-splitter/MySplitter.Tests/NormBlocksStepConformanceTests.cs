using System.Reflection;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace MySplitter.Tests;

/// <summary>The conformance kit's checks for a splitter: coded errors for bad options, determinism, no input mutation, cancellation, a valid partition for every layer.</summary>
[TestFixture]
public sealed class NormBlocksStepConformanceTests : SplitterConformanceTests
{
    protected override string PluginName => "split-mlp/norm-blocks";

    protected override Assembly PluginAssembly => typeof(NormBlocksStep).Assembly;

    protected override string ValidOptions => "{ experts: 4 }";

    protected override int ExpectedExperts => 4;

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ experts: 0 }", "LMOE0053"),
        new("{ }", "LMOE0051"),
        new("{ experts: four }", "LMOE0052"),
        new("{ experts: 4, expert: 2 }", "LMOE0050"),
        new("{ experts: 4, model: missing-folder }", "LMOE0056"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("dense", ArtifactKinds.DenseModel, directory => MlpWeightsFolder.Write(directory, RandomLayers(layers: 3, hidden: 8, intermediate: 24, seed: 42)));

    private static IReadOnlyList<MlpLayerWeights> RandomLayers(int layers, int hidden, int intermediate, int seed)
    {
        var random = new Random(seed);
        float[] Next() => Enumerable.Range(0, hidden * intermediate).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return Enumerable.Range(0, layers).Select(i => new MlpLayerWeights(i, hidden, intermediate, Next(), Next(), Next())).ToList();
    }
}
