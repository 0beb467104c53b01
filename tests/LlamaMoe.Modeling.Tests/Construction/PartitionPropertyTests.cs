using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class PartitionPropertyTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(172, 4, null, new[] { 43, 43, 43, 43 }).SetName("172 into 4 equal");
        yield return new TestCaseData(170, 4, null, new[] { 43, 43, 42, 42 }).SetName("170 into 4 uneven");
        yield return new TestCaseData(173, 8, null, new[] { 22, 22, 22, 22, 22, 21, 21, 21 }).SetName("173 into 8 uneven");
        yield return new TestCaseData(172, 4, new[] { 60, 40, 40, 32 }, new[] { 60, 40, 40, 32 }).SetName("explicit sizes");
    }

    [TestCaseSource(nameof(Cases))]
    public void EverySplitCoversEveryNeuronOnceWithTheRequestedSizes(int neurons, int experts, int[]? sizes, int[] expected)
    {
        foreach (var (name, partition) in AllSplits(neurons, experts, sizes, seed: 3))
        {
            Assert.DoesNotThrow(partition.Validate, name);
            Assert.That(partition.ExpertSizes, Is.EqualTo(expected), name);
            var all = partition.Experts.SelectMany(set => set).OrderBy(j => j).ToArray();
            Assert.That(all, Is.EqualTo(Enumerable.Range(0, neurons).ToArray()), name);
            Assert.That(partition.Overlap, Is.Zero, name);
        }
    }

    [Test]
    public void EverySplitIsDeterministicUnderItsSeed()
    {
        var first = AllSplits(170, 4, null, seed: 11).ToList();
        var second = AllSplits(170, 4, null, seed: 11).ToList();
        for (var i = 0; i < first.Count; i++)
        {
            Assert.That(second[i].Partition.Experts, Is.EqualTo(first[i].Partition.Experts), first[i].Name);
        }
    }

    [Test]
    public void RandomSplitDependsOnTheSeedAndIsNotSequential()
    {
        var a = SimpleSplits.Random(172, 4, seed: 1);
        var b = SimpleSplits.Random(172, 4, seed: 2);
        Assert.That(b.Experts, Is.Not.EqualTo(a.Experts));
        Assert.That(a.Experts, Is.Not.EqualTo(SimpleSplits.Sequential(172, 4).Experts));
    }

    [Test]
    public void SequentialSplitCutsContiguousBlocks()
    {
        var partition = SimpleSplits.Sequential(10, 3);
        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 0, 1, 2, 3 }, new[] { 4, 5, 6 }, new[] { 7, 8, 9 } }));
    }

    [Test]
    public void SizesThatDoNotSumToTheNeuronCountAreRefusedWithACode()
    {
        var error = Assert.Throws<LlamaMoeException>(() => SimpleSplits.Random(172, 4, 0, [43, 43, 43, 42]))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2103"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ExpertSizes.Balanced(3, 4))!.Code, Is.EqualTo("LMOE2103"));
    }

    [Test]
    public void ValidateRejectsADoublyAssignedNeuron()
    {
        var broken = new ExpertPartition(4, [[0, 1], [1, 3]], null, false);
        Assert.That(Assert.Throws<LlamaMoeException>(broken.Validate)!.Code, Is.EqualTo("LMOE2102"));
        var declared = broken with { Overlapping = true };
        Assert.DoesNotThrow(declared.Validate);
        Assert.That(declared.Overlap, Is.EqualTo(1));
    }

    [Test]
    public void ResidualSplitCoversEveryNeuronOnceAcrossRoutedAndResidualExperts()
    {
        var importance = SyntheticData.Importance(clusters: 3, neurons: 172, seed: 5);
        var partition = GradientSplit.GreedyWithResidual(importance);
        partition.Validate();
        Assert.That(partition.Residual!.Length, Is.EqualTo(43));
        Assert.That(partition.ExpertSizes, Is.EqualTo(new[] { 43, 43, 43 }));
        Assert.That(partition.Experts.SelectMany(s => s).Concat(partition.Residual).Distinct().Count(), Is.EqualTo(172));
    }

    [Test]
    public void SharingSplitDeclaresItsOverlapAndTakesEachExpertsTopNeurons()
    {
        var importance = SyntheticData.Importance(clusters: 4, neurons: 172, seed: 6);
        var partition = GradientSplit.Sharing(importance, expertSize: 60);
        partition.Validate();
        Assert.That(partition.Overlapping, Is.True);
        Assert.That(partition.ExpertSizes, Is.All.EqualTo(60));
        Assert.That(partition.Overlap, Is.EqualTo(240 - partition.Experts.SelectMany(s => s).Distinct().Count()));
        for (var e = 0; e < 4; e++)
        {
            var threshold = partition.Experts[e].Min(j => importance[e][j]);
            var outside = Enumerable.Range(0, 172).Except(partition.Experts[e]).Max(j => importance[e][j]);
            Assert.That(outside, Is.LessThanOrEqualTo(threshold));
        }
    }

    internal static IEnumerable<(string Name, ExpertPartition Partition)> AllSplits(int neurons, int experts, int[]? sizes, long seed)
    {
        yield return ("random", SimpleSplits.Random(neurons, experts, seed, sizes));
        yield return ("sequential", SimpleSplits.Sequential(neurons, experts, sizes));
        yield return ("clustering", ClusteringSplit.Split(SyntheticData.Rows(neurons, 16, experts, seed), neurons, 16, experts, seed, sizes, maxIterations: 30));
        yield return ("coactivation", CoactivationSplit.Split(SyntheticData.Coactivation(neurons, experts, seed), neurons, experts, seed, sizes));
        yield return ("gradient", GradientSplit.Greedy(SyntheticData.Importance(experts, neurons, seed), sizes));
    }
}
