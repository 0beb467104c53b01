using LlamaMoe.Modeling.Alignment;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Alignment;

public sealed class OutputStatisticsTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void BatchesMergeIntoTheMeanAndPopulationVarianceOfAllTokensAndTheAffineMapMatchesThem()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var data = randn(new long[] { 300, 6 }, generator: generator).mul(tensor(new[] { 0.5f, 1, 2, 3, 4, 5 })).add(tensor(new[] { -2f, -1, 0, 1, 2, 3 })); // (N, H)
        var target = randn(new long[] { 200, 6 }, generator: generator).mul(1.5f).add(0.25f);                                                              // (M, H)
        using var statistics = new OutputStatistics(6);
        statistics.Add(data.narrow(0, 0, 100).unsqueeze(0));   // (1, 100, H)
        statistics.Add(data.narrow(0, 100, 200));              // (200, H)
        using var reference = new OutputStatistics(6);
        reference.Add(target);
        var expectedMean = data.to(ScalarType.Float64).mean(new long[] { 0 });
        var expectedVariance = data.to(ScalarType.Float64).var(0, unbiased: false);
        Assert.That(statistics.Count, Is.EqualTo(300));
        Assert.That(statistics.Mean().sub(expectedMean).abs().max().item<double>(), Is.LessThan(1e-9));
        Assert.That(statistics.Variance().sub(expectedVariance).abs().max().item<double>(), Is.LessThan(1e-9));

        var (a, b) = statistics.AffineTo(reference);
        using var mapped = new OutputStatistics(6);
        mapped.Add(data.to(ScalarType.Float64).mul(a).add(b));
        Assert.That(mapped.Mean().sub(reference.Mean()).abs().max().item<double>(), Is.LessThan(1e-9));
        Assert.That(mapped.Variance().sub(reference.Variance()).abs().max().item<double>(), Is.LessThan(1e-9));
    }
}
