using LlamaMoe.Construction;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Plugins.Construction;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Construction;

/// <summary>
/// Splitters get their weights lazily: the calibrated splits (gradient, sharing, co-activation) and the shape-only
/// splits (random, sequential) never open a layer's MLP weights; clustering reads exactly the rows it clusters.
/// </summary>
public sealed class LazyWeightsSplitTests
{
    private const int Neurons = 24;
    private const int Hidden = 4;
    private const int Experts = 4;

    [Test]
    public void TheGradientSplitNeverOpensTheMlpWeights()
    {
        var reads = new List<MlpProjection>();

        var partition = new GradientSplitStep().SplitLayer(Layer(reads, Calibrated()), new GradientSplitOptions { Experts = Experts, Residual = 1 }, seed: 3);

        Assert.That(reads, Is.Empty);
        Assert.That(partition.Problem(), Is.Null);
        Assert.That(partition.Residual, Is.Not.Null, "the residual option still applies");
    }

    [Test]
    public void SplitsThatUseOnlyStatisticsOrShapesNeverOpenTheMlpWeights()
    {
        var reads = new List<MlpProjection>();
        var statistics = Calibrated();

        new SharingSplitStep().SplitLayer(Layer(reads, statistics), new SharingSplitOptions { Experts = Experts }, seed: 0);
        new CoactivationSplitStep().SplitLayer(Layer(reads, statistics), new SeededSplitOptions { Experts = Experts }, seed: 0);
        new RandomSplitStep().SplitLayer(Layer(reads, statistics: null), new SeededSplitOptions { Experts = Experts }, seed: 0);
        new SequentialSplitStep().SplitLayer(Layer(reads, statistics: null), new SizedSplitOptions { Experts = Experts }, seed: 0);

        Assert.That(reads, Is.Empty);
    }

    [Test]
    public void TheClusteringSplitReadsOnlyTheRowsItClusters()
    {
        var reads = new List<MlpProjection>();

        new ClusteringSplitStep().SplitLayer(Layer(reads, statistics: null), new ClusteringSplitOptions { Experts = Experts, Weights = ClusteringWeights.Gate, Iterations = 5 }, seed: 0);

        Assert.That(reads, Is.EqualTo(new[] { MlpProjection.Gate }));
    }

    [Test]
    public void AGradientSplitWithoutImportanceIsTheCalibrationContentCode()
    {
        var layer = Layer([], new LayerStatistics(new float[Neurons], Coactivation: null, Importance: null));

        var error = Assert.Throws<LlamaMoeException>(() => new GradientSplitStep().SplitLayer(layer, new GradientSplitOptions { Experts = Experts }, seed: 0));

        Assert.That(error!.Code, Is.EqualTo(ConstructionPluginErrors.CalibrationContent));
    }

    // A layer whose weight reader records what is asked for and serves small random weights.
    private static MlpLayerInput Layer(List<MlpProjection> reads, LayerStatistics? statistics)
    {
        var random = new Random(1);
        return new MlpLayerInput(0, Hidden, Neurons, projection =>
        {
            reads.Add(projection);
            return Enumerable.Range(0, Neurons * Hidden).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        }, statistics);
    }

    // Statistics of one calibrated layer: active frequency, a symmetric co-activation graph and importance per expert.
    private static LayerStatistics Calibrated()
    {
        var random = new Random(2);
        var frequency = Enumerable.Range(0, Neurons).Select(_ => (float)random.NextDouble()).ToArray();
        var graph = new float[Neurons * Neurons];
        for (var i = 0; i < Neurons; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                graph[(i * Neurons) + j] = graph[(j * Neurons) + i] = i == j ? 0 : random.Next(0, 10);
            }
        }

        var importance = Enumerable.Range(0, Experts).Select(_ => Enumerable.Range(0, Neurons).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        return new LayerStatistics(frequency, graph, importance);
    }
}
