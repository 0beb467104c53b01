using LlamaMoe.Modeling.Construction;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class ImportanceAccumulatorTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void ImportanceIsTheMeanAbsoluteActivationTimesGradientPerCluster()
    {
        // h = [[1, 2], [3, -1], [2, 2]], g = [[0.5, -1], [1, 1], [-1, 0.5]], clusters [0, 1, 0].
        // |h·g| = [[0.5, 2], [3, 1], [2, 1]]; cluster 0 = mean of rows 0, 2 = [1.25, 1.5]; cluster 1 = [3, 1]; cluster 2 has no tokens.
        using var scope = NewDisposeScope();
        using var accumulator = new ImportanceAccumulator(clusters: 3, neurons: 2);
        var h = tensor(new float[] { 1, 2, 3, -1, 2, 2 }, new long[] { 3, 2 });
        var g = tensor(new float[] { 0.5f, -1, 1, 1, -1, 0.5f }, new long[] { 3, 2 });
        // Two batches: the first two tokens, then the third.
        accumulator.Add(h[..2], g[..2], tensor(new long[] { 0, 1 }));
        accumulator.Add(h[2..], g[2..], tensor(new long[] { 0 }));

        var scores = accumulator.ScoresAsArrays();
        Assert.That(scores[0], Is.EqualTo(new[] { 1.25f, 1.5f }).Within(1e-6));
        Assert.That(scores[1], Is.EqualTo(new[] { 3f, 1f }).Within(1e-6));
        Assert.That(scores[2], Is.EqualTo(new[] { 0f, 0f }));
        Assert.That(accumulator.TokenCounts(), Is.EqualTo(new long[] { 2, 1, 0 }));
    }

    [Test]
    public void MismatchedRowsAreRefusedWithACode()
    {
        using var scope = NewDisposeScope();
        using var accumulator = new ImportanceAccumulator(2, 2);
        var error = Assert.Throws<LlamaMoeException>(() => accumulator.Add(ones(3, 2), ones(3, 2), tensor(new long[] { 0, 1 })))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2108"));
    }
}
