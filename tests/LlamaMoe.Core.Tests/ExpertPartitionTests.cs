using LlamaMoe.Construction;
using NUnit.Framework;

namespace LlamaMoe.Core.Tests;

/// <summary>The one expert partition: its factories, its invariants and the coded error that reports a broken one.</summary>
public sealed class ExpertPartitionTests
{
    [Test]
    public void DisjointSortsEverySetAndTreatsAnEmptyResidualAsNone()
    {
        var partition = ExpertPartition.Disjoint(6, [[5, 1], [0, 3, 2]], residual: [4]);

        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 1, 5 }, new[] { 0, 2, 3 } }));
        Assert.That(partition.Residual, Is.EqualTo(new[] { 4 }));
        Assert.That(partition.Overlapping, Is.False);
        Assert.That(partition.Problem(), Is.Null);
        Assert.That(ExpertPartition.Disjoint(2, [[0], [1]], residual: []).Residual, Is.Null);
    }

    [Test]
    public void ADisjointPartitionThatRepeatsOrLeavesOutANeuronIsReported()
    {
        Assert.That(ExpertPartition.Disjoint(4, [[0, 1], [1, 2]]).Problem(), Does.Contain("Neuron 1 belongs to 2 experts"));
        Assert.That(ExpertPartition.Disjoint(4, [[0, 1], [2]]).Problem(), Does.Contain("Neuron 3 belongs to 0 experts"));
    }

    [Test]
    public void ASharingPartitionMayRepeatAndLeaveOutNeurons()
    {
        var partition = ExpertPartition.Sharing(4, [[0, 1], [1, 2]]);

        Assert.That(partition.Overlapping, Is.True);
        Assert.That(partition.Problem(), Is.Null);
        Assert.That(partition.Overlap, Is.EqualTo(1));
    }

    [Test]
    public void IndicesOutOfRangeOrEmptyExpertsAreReportedWhateverTheKind()
    {
        Assert.That(ExpertPartition.Sharing(3, [[0, 3]]).Problem(), Does.Contain("out of range"));
        Assert.That(ExpertPartition.Disjoint(2, [[0, 1], []]).Problem(), Does.Contain("expert 1 has no neurons"));
        Assert.That(ExpertPartition.Disjoint(2, []).Problem(), Does.Contain("no experts"));
    }

    [Test]
    public void ValidateRaisesTheCoreCodeWithTheProblem()
    {
        var partition = ExpertPartition.Disjoint(3, [[0, 1]]);

        var error = Assert.Throws<LlamaMoeException>(partition.Validate);

        Assert.That(error!.Code, Is.EqualTo(CoreErrorCodes.PartitionInvariantBroken));
        Assert.That(error.Message, Is.EqualTo(partition.Problem()));
    }

    [Test]
    public void LabelsRoundTripForADisjointPartition()
    {
        var partition = ExpertPartition.FromLabels([1, 0, 1, 0], experts: 2);

        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 1, 3 }, new[] { 0, 2 } }));
        Assert.That(partition.ToLabels(), Is.EqualTo(new[] { 1, 0, 1, 0 }));
    }
}
