using LlamaMoe.Construction;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

/// <summary><c>partition.json</c> carries the one expert partition, its residual and its Overlapping flag, unchanged.</summary>
public sealed class ModelPartitionTests
{
    [Test]
    public void PartitionJsonRoundTripsOverlappingAndTheResidual()
    {
        using var temp = new TempDirectory();
        var written = new ModelPartition(6, [
            ExpertPartition.Disjoint(6, [[0, 1], [2, 3]], residual: [4, 5]),
            ExpertPartition.Sharing(6, [[0, 1, 2], [2, 3, 4]]),
        ]);

        written.Write(temp.Path);
        var read = ModelPartition.Read(temp.Path);

        Assert.That(read.Intermediate, Is.EqualTo(6));
        Assert.That(read.Layers.Select(l => l.Overlapping), Is.EqualTo(new[] { false, true }));
        Assert.That(read.Layers[0].Residual, Is.EqualTo(new[] { 4, 5 }));
        Assert.That(read.Layers[1].Residual, Is.Null);
        Assert.That(read.Layers.Select(l => l.Experts), Is.EqualTo(written.Layers.Select(l => l.Experts)));
        Assert.That(read.Layers.Select(l => l.NeuronCount), Is.All.EqualTo(6));
    }

    [Test]
    public void AFileWithoutOverlappingReadsAsADisjointPartition()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine(ModelPartition.FileName), """{"intermediate":4,"layers":[{"experts":[[0,1],[2,3]],"residual":[]}]}""");

        var layer = ModelPartition.Read(temp.Path).Layers.Single();

        Assert.That(layer.Overlapping, Is.False);
        Assert.That(layer.Residual, Is.Null);
        Assert.That(layer.Problem(), Is.Null);
    }

    [Test]
    public void AnUnreadablePartitionIsTheContractCode()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine(ModelPartition.FileName), """{"intermediate":4,"layers":[{"residual":[]}]}""");

        var error = Assert.Throws<LlamaMoeException>(() => ModelPartition.Read(temp.Path));

        Assert.That(error!.Code, Is.EqualTo(ContractErrorCodes.PartitionUnreadable));
    }
}
