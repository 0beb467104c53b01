using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace MagnitudeSplitter.Tests;

public sealed class MagnitudeSplitStepTests
{
    // Norms by neuron: 5, 1, 4, 2, 6, 3 -> sorted order (descending): 4, 0, 2, 5, 3, 1.
    private static readonly float[] Norms = [5, 1, 4, 2, 6, 3];

    [Test]
    public void RoundRobinDealsTheSortedNeuronsInTurn()
    {
        var partition = Split(DealMode.RoundRobin, residual: 0, experts: 2);
        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 2, 3, 4 }), "sorted positions 0, 2, 4: neurons 4, 2, 3");
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 0, 1, 5 }), "sorted positions 1, 3, 5: neurons 0, 5, 1");
        Assert.That(partition.Residual, Is.Null);
    }

    [Test]
    public void ContiguousGivesTheStrongestChunkToExpertZero()
    {
        var partition = Split(DealMode.Contiguous, residual: 0, experts: 2);
        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 1, 3, 5 }));
    }

    [Test]
    public void ResidualTakesTheStrongestNeurons()
    {
        var partition = Split(DealMode.RoundRobin, residual: 2, experts: 2);
        Assert.That(partition.Residual, Is.EqualTo(new[] { 0, 4 }));
        Assert.That(partition.Experts.SelectMany(e => e).Order(), Is.EqualTo(new[] { 1, 2, 3, 5 }));
        Assert.That(partition.Problem(), Is.Null);
    }

    [Test]
    public void TooManyExpertsIsACodedError()
    {
        var ex = Assert.Throws<LlamaMoe.LlamaMoeException>(() => Split(DealMode.RoundRobin, residual: 0, experts: 7));
        Assert.That(ex!.Code, Is.EqualTo(MagnitudeSplitStep.TooFewNeurons));
    }

    [Test]
    public void DealingByGateAndUpNormsNeverReadsTheDownWeight()
    {
        var weights = TinyModel.Layer(0, Norms);
        var read = new List<MlpProjection>();
        var layer = new MlpLayerInput(0, weights.Hidden, weights.Intermediate, projection =>
        {
            read.Add(projection);
            return weights.Of(projection);
        });

        new MagnitudeSplitStep().SplitLayer(layer, new MagnitudeOptions { Experts = 2 }, seed: 0);
        Assert.That(read, Is.EquivalentTo(new[] { MlpProjection.Gate, MlpProjection.Up }), "each used weight is read once, down never");
    }

    private static LlamaMoe.Construction.ExpertPartition Split(DealMode mode, int residual, int experts) =>
        new MagnitudeSplitStep().SplitLayer(MlpLayerInput.FromWeights(TinyModel.Layer(0, Norms)), new MagnitudeOptions { Experts = experts, Mode = mode, Residual = residual }, seed: 0);
}
