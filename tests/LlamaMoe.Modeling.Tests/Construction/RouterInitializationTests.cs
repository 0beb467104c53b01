using LlamaMoe.Modeling.Construction;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class RouterInitializationTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void KaimingUniformStaysWithinOneOverRootH()
    {
        using var scope = NewDisposeScope();
        var weight = RouterInitialization.KaimingUniform(8, 64, new Generator(1)); // (8, 64)
        Assert.That(weight.shape, Is.EqualTo(new long[] { 8, 64 }));
        Assert.That(weight.abs().max().item<float>(), Is.LessThanOrEqualTo(0.125f));
        Assert.That(weight.std().item<float>(), Is.EqualTo(0.125 / Math.Sqrt(3)).Within(0.01));
    }

    [Test]
    public void KMeansCentroidsSitOnThePlantedClustersAndRouteTokensToThem()
    {
        using var scope = NewDisposeScope();
        const int n = 160, h = 8, e = 4;
        var states = tensor(SyntheticData.Rows(n, h, e, seed: 12, spread: 0.1), new long[] { n, h }); // (N, H)
        var (centroids, labels) = RouterInitialization.KMeansCentroids(states, e, BalancedKMeansOptions.Jittered(n, e, seed: 1, restarts: 2));
        Assert.That(centroids.shape, Is.EqualTo(new long[] { e, h }));
        Assert.That(labels.GroupBy(l => l).Select(g => g.Count()), Is.All.InRange(24, 56));
        // Every centroid is the mean of its planted group, so it is within the noise of that group's points.
        for (var c = 0; c < e; c++)
        {
            var members = Enumerable.Range(0, n).Where(i => labels[i] == c).Select(i => (long)i).ToArray();
            var mean = states.index_select(0, tensor(members)).mean([0]); // (H)
            Assert.That((mean - centroids[c]).abs().max().item<float>(), Is.LessThan(1e-4f));
        }

        var routed = RouterInitialization.AssignClusters(states, centroids); // (N)
        Assert.That(routed.shape, Is.EqualTo(new long[] { n }));
        Assert.That(routed.max().item<long>(), Is.LessThan(e));
    }

    [Test]
    public void AssignClustersUsesTheDotProductNotTheDistance()
    {
        using var scope = NewDisposeScope();
        // x = (1, 0): nearest centroid is (1, 0) but the dot product prefers the long (3, 1).
        var x = tensor(new float[] { 1, 0 }, new long[] { 1, 2 });
        var centroids = tensor(new float[] { 1, 0, 3, 1 }, new long[] { 2, 2 });
        Assert.That(RouterInitialization.AssignClusters(x, centroids).item<long>(), Is.EqualTo(1));
    }

    [Test]
    public void RandomTokenRowsAreDistinctRowsOfTheInput()
    {
        using var scope = NewDisposeScope();
        var states = arange(40f).reshape(10, 4); // (10, 4)
        var rows = RouterInitialization.RandomTokenRows(states, 3, seed: 5); // (3, 4)
        var firsts = Enumerable.Range(0, 3).Select(r => rows[r, 0].item<float>()).ToArray();
        Assert.That(firsts.Distinct().Count(), Is.EqualTo(3));
        Assert.That(firsts, Is.All.Matches<float>(v => v % 4 == 0));
        Assert.That(RouterInitialization.RandomTokenRows(states, 3, seed: 5).eq(rows).all().item<bool>(), Is.True);
    }

    [Test]
    public void TooFewTokensAreRefusedWithACode()
    {
        using var scope = NewDisposeScope();
        Assert.That(Assert.Throws<LlamaMoeException>(() => RouterInitialization.RandomTokenRows(zeros(2, 4), 3, 0))!.Code, Is.EqualTo("LMOE2107"));
    }
}
