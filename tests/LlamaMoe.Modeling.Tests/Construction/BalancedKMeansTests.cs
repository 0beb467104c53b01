using LlamaMoe.Modeling.Construction;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class BalancedKMeansTests
{
    [Test]
    public void ExactSizesAreMetAndPlantedClustersBeatARandomBalancedSplit()
    {
        const int n = 170, d = 8, k = 4;
        var data = SyntheticData.Rows(n, d, k, seed: 42);
        var sizes = ExpertSizes.Balanced(n, k);
        var result = BalancedKMeans.Fit(data, n, d, BalancedKMeansOptions.Exact(sizes, seed: 1, restarts: 2) with { InterchangeableBounds = true });

        Assert.That(result.Sizes(k).OrderDescending(), Is.EqualTo(sizes));
        var random = SimpleSplits.Random(n, k, seed: 1).ToLabels();
        Assert.That(result.Inertia, Is.LessThan(0.2 * WithinClusterSquares(data, d, random, k)));
        // Planted groups are recovered: points of one planted group share a label.
        for (var g = 0; g < k; g++)
        {
            var labels = Enumerable.Range(0, n).Where(i => i % k == g).Select(i => result.Labels[i]).Distinct().Count();
            Assert.That(labels, Is.EqualTo(1), $"planted group {g}");
        }
    }

    [Test]
    public void ExactSizesHoldEvenWhenTheDataWantsUnequalClusters()
    {
        // 3 planted groups but 4 exact clusters of 30 on 120 points.
        const int n = 120, d = 4;
        var data = SyntheticData.Rows(n, d, 3, seed: 7);
        var result = BalancedKMeans.Fit(data, n, d, BalancedKMeansOptions.Exact([30, 30, 30, 30], seed: 3));
        Assert.That(result.Sizes(4), Is.All.EqualTo(30));
    }

    [Test]
    public void FixedBoundsGiveEveryClusterItsOwnSize()
    {
        var data = SyntheticData.Rows(100, 4, 3, seed: 13);
        var result = BalancedKMeans.Fit(data, 100, 4, BalancedKMeansOptions.Exact([50, 30, 20], seed: 2));
        Assert.That(result.Sizes(3), Is.EqualTo(new[] { 50, 30, 20 }));
    }

    [Test]
    public void JitteredBoundsAreRespected()
    {
        // Groups of very different sizes: 70 % of the points in group 0; v2 bounds with j = 0.4 over 200 points in 4 clusters: 30..70.
        const int n = 200, d = 4;
        var data = SyntheticData.Rows(n, d, 2, seed: 9);
        for (var i = 0; i < n; i++)
        {
            if (i % 10 < 7)
            {
                Array.Copy(data, 0, data, i * d, d);
            }
        }

        var options = BalancedKMeansOptions.Jittered(n, 4, seed: 5, restarts: 2);
        Assert.That(options.MinSizes[0], Is.EqualTo(30));
        Assert.That(options.MaxSizes[0], Is.EqualTo(70));
        var sizes = BalancedKMeans.Fit(data, n, d, options).Sizes(4);
        Assert.That(sizes, Is.All.InRange(30, 70));
        Assert.That(sizes.Sum(), Is.EqualTo(n));
    }

    [Test]
    public void SameSeedGivesTheSameClustering()
    {
        var data = SyntheticData.Rows(90, 6, 3, seed: 2, spread: 3);
        var options = BalancedKMeansOptions.Exact([30, 30, 30], seed: 8);
        Assert.That(BalancedKMeans.Fit(data, 90, 6, options).Labels, Is.EqualTo(BalancedKMeans.Fit(data, 90, 6, options).Labels));
    }

    [Test]
    public void InfeasibleBoundsAreRefusedWithACode()
    {
        var data = new float[10 * 2];
        var error = Assert.Throws<LlamaMoeException>(() => BalancedKMeans.Fit(data, 10, 2, BalancedKMeansOptions.Exact([4, 4])))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2105"));
    }

    private static double WithinClusterSquares(float[] data, int d, int[] labels, int k)
    {
        double total = 0;
        for (var c = 0; c < k; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            for (var f = 0; f < d; f++)
            {
                var mean = members.Average(i => data[(i * d) + f]);
                total += members.Sum(i => Math.Pow(data[(i * d) + f] - mean, 2));
            }
        }

        return total;
    }
}
