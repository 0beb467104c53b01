using LlamaMoe.Modeling.Construction;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class GraphPartitionerTests
{
    [Test]
    public void PlantedCommunitiesAreRecoveredWithExactSizes()
    {
        const int n = 120, parts = 4;
        var graph = SyntheticData.Coactivation(n, parts, seed: 4);
        var labels = GraphPartitioner.Partition(graph, n, ExpertSizes.Balanced(n, parts), seed: 4);

        Assert.That(Enumerable.Range(0, parts).Select(p => labels.Count(l => l == p)), Is.All.EqualTo(30));
        for (var g = 0; g < parts; g++)
        {
            Assert.That(Enumerable.Range(0, n).Where(i => i % parts == g).Select(i => labels[i]).Distinct().Count(), Is.EqualTo(1));
        }

        var random = SimpleSplits.Random(n, parts, seed: 4).ToLabels();
        Assert.That(GraphPartitioner.CutWeight(graph, n, labels), Is.LessThan(0.5 * GraphPartitioner.CutWeight(graph, n, random)));
    }

    [Test]
    public void RefinementRepairsABadStartSoTheCutIsNoWorseThanSequential()
    {
        // Communities are contiguous blocks here, so the sequential split is optimal; the partitioner must match it.
        const int n = 60;
        var graph = new float[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                graph[(i * n) + j] = i != j && i / 20 == j / 20 ? 1f : 0.01f;
            }
        }

        var labels = GraphPartitioner.Partition(graph, n, [20, 20, 20], seed: 9);
        var sequential = SimpleSplits.Sequential(n, 3).ToLabels();
        Assert.That(GraphPartitioner.CutWeight(graph, n, labels), Is.EqualTo(GraphPartitioner.CutWeight(graph, n, sequential)).Within(1e-3));
    }

    [Test]
    public void AMatrixOfTheWrongSizeIsRefusedWithACode()
    {
        Assert.That(Assert.Throws<LlamaMoeException>(() => GraphPartitioner.Partition(new float[10], 4, [2, 2], 0))!.Code, Is.EqualTo("LMOE2106"));
    }
}
