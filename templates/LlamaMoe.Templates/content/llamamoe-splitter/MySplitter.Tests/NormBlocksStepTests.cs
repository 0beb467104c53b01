using LlamaMoe.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using NUnit.Framework;

namespace MySplitter.Tests;

public sealed class NormBlocksStepTests
{
    [Test]
    public void TheMostImportantNeuronsFormExpertZero()
    {
        // Importance = gate norm * up norm = 5, 1, 4, 2, 6, 3 -> sorted: 4, 0, 2, 5, 3, 1.
        var partition = Split(experts: 2, 5, 1, 4, 2, 6, 3);

        Assert.That(partition.Experts[0], Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(partition.Experts[1], Is.EqualTo(new[] { 1, 3, 5 }));
        Assert.That(partition.Problem(), Is.Null);
    }

    [Test]
    public void BlockSizesDifferByAtMostOne()
    {
        var partition = Split(experts: 3, 1, 2, 3, 4, 5, 6, 7);

        Assert.That(partition.Experts.Select(e => e.Length), Is.EqualTo(new[] { 3, 2, 2 }));
    }

    [Test]
    public void MoreExpertsThanNeuronsIsACodedError()
    {
        var error = Assert.Throws<LlamaMoe.LlamaMoeException>(() => Split(experts: 3, 1, 2));

        Assert.That(error!.Code, Is.EqualTo(ContractErrorCodes.InvalidPartition));
    }

    private static ExpertPartition Split(int experts, params float[] importance) =>
        new NormBlocksStep().SplitLayer(Layer(importance), new MlpSplitterOptions { Experts = experts }, seed: 0);

    /// <summary>A layer with H=1: neuron n's gate and up rows are (sqrt(importance[n])), so its importance is importance[n].</summary>
    private static MlpLayerInput Layer(params float[] importance)
    {
        var rows = importance.Select(MathF.Sqrt).ToArray();
        return MlpLayerInput.FromWeights(new MlpLayerWeights(0, 1, importance.Length, rows, rows.ToArray(), new float[importance.Length]));
    }
}
