using NUnit.Framework;

namespace MagnitudeSplitter.Tests;

public sealed class MagnitudeSplitterTests
{
    // Norms by neuron: 5, 1, 4, 2, 6, 3 -> sorted order (descending): 4, 0, 2, 5, 3, 1.
    private static readonly float[] Norms = [5, 1, 4, 2, 6, 3];

    [Test]
    public void RoundRobinDealsTheSortedNeuronsInTurn()
    {
        var partition = new MagnitudeSplitter(DealMode.RoundRobin, 0).SplitLayer(TinyModel.Layer(0, Norms), experts: 2, seed: 0);
        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 2, 3, 4 }), "sorted positions 0, 2, 4: neurons 4, 2, 3");
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 0, 1, 5 }), "sorted positions 1, 3, 5: neurons 0, 5, 1");
        Assert.That(partition.Residual, Is.Empty);
    }

    [Test]
    public void ContiguousGivesTheStrongestChunkToExpertZero()
    {
        var partition = new MagnitudeSplitter(DealMode.Contiguous, 0).SplitLayer(TinyModel.Layer(0, Norms), experts: 2, seed: 0);
        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 1, 3, 5 }));
    }

    [Test]
    public void ResidualTakesTheStrongestNeurons()
    {
        var partition = new MagnitudeSplitter(DealMode.RoundRobin, 2).SplitLayer(TinyModel.Layer(0, Norms), experts: 2, seed: 0);
        Assert.That(partition.Residual, Is.EqualTo(new[] { 0, 4 }));
        Assert.That(partition.Experts.SelectMany(e => e).Order(), Is.EqualTo(new[] { 1, 2, 3, 5 }));
        Assert.That(partition.Check(6), Is.Null);
    }

    [Test]
    public void TooManyExpertsIsACodedError()
    {
        var ex = Assert.Throws<LlamaMoe.LlamaMoeException>(() => new MagnitudeSplitter(DealMode.RoundRobin, 0).SplitLayer(TinyModel.Layer(0, Norms), experts: 7, seed: 0));
        Assert.That(ex!.Code, Is.EqualTo("LMOE2051"));
    }
}
