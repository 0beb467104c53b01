using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Conformance;

/// <summary>
/// The conformance checks of a splitter step (an <see cref="MlpSplitterStep{TOptions}"/>): everything
/// <see cref="StepConformanceTests"/> checks, plus a valid partition with the asked-for expert count for every layer.
/// <see cref="ExpectedExperts"/> is the <c>experts</c> value of <see cref="StepConformanceTests.ValidOptions"/>.
/// </summary>
public abstract class SplitterConformanceTests : StepConformanceTests
{
    /// <summary>The expert count <see cref="StepConformanceTests.ValidOptions"/> asks for.</summary>
    protected abstract int ExpectedExperts { get; }

    /// <summary>A run with the valid options writes <c>partition.json</c> whose every layer holds its invariants.</summary>
    [Test]
    public async Task WritesAValidPartitionForEveryLayer()
    {
        using var sandbox = CreateSandbox();
        var (_, output) = await sandbox.RunAsync(ValidOptions, seed: 5, CancellationToken.None);

        var partition = ModelPartition.Read(output);

        Assert.That(partition.Layers, Is.Not.Empty, "the split covers the model's layers");
        foreach (var (layer, index) in partition.Layers.Select((layer, index) => (layer, index)))
        {
            Assert.That(layer.Experts, Has.Count.EqualTo(ExpectedExperts), $"layer {index}");
            Assert.That(layer.NeuronCount, Is.EqualTo(partition.Intermediate), $"layer {index}");
            Assert.That(layer.Problem(), Is.Null, $"layer {index}");
        }
    }
}
