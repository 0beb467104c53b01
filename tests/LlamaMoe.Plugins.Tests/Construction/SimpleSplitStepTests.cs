using LlamaMoe.Construction;
using LlamaMoe.Plugins.Construction;
using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class SimpleSplitStepTests
{
    private static MlpLayerInput Layer(int intermediate, int hidden = 4, int seed = 1)
    {
        var random = new Random(seed);
        float[] Next() => Enumerable.Range(0, intermediate * hidden).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return MlpLayerInput.FromWeights(new MlpLayerWeights(0, hidden, intermediate, Next(), Next(), Next()));
    }

    private static SeededSplitOptions Experts(int experts) => new() { Experts = experts };

    /// <summary>A seeded random partition of <paramref name="intermediate"/> neurons into <paramref name="experts"/> experts.</summary>
    internal static ExpertPartition Partition(int intermediate, int experts, int seed) => new RandomSplitStep().SplitLayer(Layer(intermediate), Experts(experts), seed);

    [Test]
    public void RandomSplitCoversEveryNeuronOnceAndDependsOnTheSeed()
    {
        var step = new RandomSplitStep();
        var first = step.SplitLayer(Layer(30), Experts(4), seed: 5);
        Assert.That(first.Problem(), Is.Null);
        Assert.That(first.Experts.Select(e => e.Length), Is.EqualTo(new[] { 8, 8, 7, 7 }));
        Assert.That(step.SplitLayer(Layer(30), Experts(4), 5).Experts, Is.EqualTo(first.Experts));
        Assert.That(step.SplitLayer(Layer(30), Experts(4), 6).Experts, Is.Not.EqualTo(first.Experts));
    }

    [Test]
    public void SequentialSplitCutsContiguousBlocks()
    {
        var partition = new SequentialSplitStep().SplitLayer(Layer(10), Experts(3), seed: 0);
        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 4, 5, 6 }));
        Assert.That(partition.Experts[2], Is.EqualTo(new[] { 7, 8, 9 }));
        Assert.That(partition.Residual, Is.Null);
    }

    [Test]
    public void ClusteringGroupsNeuronsWithParallelWeightRows()
    {
        // Neurons 0..5 point along +x, 6..11 along +y (up rows); clustering must separate the two directions.
        const int hidden = 2;
        var up = new float[12 * hidden];
        for (var n = 0; n < 12; n++)
        {
            up[(n * hidden) + (n < 6 ? 0 : 1)] = 1 + (n * 0.1f);
        }

        var layer = MlpLayerInput.FromWeights(new MlpLayerWeights(0, hidden, 12, new float[up.Length], up, new float[up.Length]));
        var partition = new ClusteringSplitStep().SplitLayer(layer, new ClusteringSplitOptions { Experts = 2 }, seed: 0);
        var groups = partition.Experts.Select(e => e.ToArray()).OrderBy(e => e[0]).ToArray();
        Assert.That(groups[0], Is.EqualTo(Enumerable.Range(0, 6)));
        Assert.That(groups[1], Is.EqualTo(Enumerable.Range(6, 6)));
    }
}
