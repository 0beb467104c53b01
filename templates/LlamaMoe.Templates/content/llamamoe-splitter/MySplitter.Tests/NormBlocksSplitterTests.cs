using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace MySplitter.Tests;

public sealed class NormBlocksSplitterTests
{
    [Test]
    public void TheMostImportantNeuronsFormExpertZero()
    {
        // Importance = gate norm * up norm = 5, 1, 4, 2, 6, 3 -> sorted: 4, 0, 2, 5, 3, 1.
        var partition = new NormBlocksSplitter().SplitLayer(Layer(5, 1, 4, 2, 6, 3), experts: 2, seed: 0);

        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 1, 3, 5 }));
        Assert.That(partition.Check(6), Is.Null);
    }

    [Test]
    public void BlockSizesDifferByAtMostOne()
    {
        var partition = new NormBlocksSplitter().SplitLayer(Layer(1, 2, 3, 4, 5, 6, 7), experts: 3, seed: 0);

        Assert.That(partition.Experts.Select(e => e.Count), Is.EqualTo(new[] { 3, 2, 2 }));
    }

    [Test]
    public void MoreExpertsThanNeuronsIsACodedError()
    {
        var error = Assert.Throws<LlamaMoe.LlamaMoeException>(() => new NormBlocksSplitter().SplitLayer(Layer(1, 2), experts: 3, seed: 0));

        Assert.That(error!.Code, Is.EqualTo("LMOE2050"));
    }

    /// <summary>A layer with H=1: neuron n's gate and up rows are (sqrt(importance[n])), so its importance is importance[n].</summary>
    private static MlpLayerWeights Layer(params float[] importance)
    {
        var rows = importance.Select(MathF.Sqrt).ToArray();
        return new MlpLayerWeights(0, 1, importance.Length, rows, rows.ToArray(), new float[importance.Length]);
    }
}
