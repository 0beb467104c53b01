using LlamaMoe.Modeling.Construction;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Construction;

public sealed class GradientSplitTests
{
    [Test]
    public void GreedyReproducesV2AssignmentOnAHandWorkedExample()
    {
        // s0 = [0.9, 0.8, 0.1, 0.3], s1 = [0.95, 0.2, 0.7, 0.6], m = 2.
        // Orders: e0: n0, n1, n3, n2; e1: n0, n2, n3, n1.
        // step 1: heads e0→n0 (0.9), e1→n0 (0.95): e1 takes n0.
        // step 2: e0 skips used n0 → n1 (0.8); e1 → n2 (0.7): e0 takes n1.
        // step 3: e0 → n3 (0.3); e1 → n2 (0.7): e1 takes n2 and is full.
        // step 4: only e0 is open: it takes n3.
        // Result e0 = {1, 3}, e1 = {0, 2} (not each expert's own top-2, which would give e0 = {0, 1}).
        float[][] importance = [[0.9f, 0.8f, 0.1f, 0.3f], [0.95f, 0.2f, 0.7f, 0.6f]];
        var partition = GradientSplit.Greedy(importance);
        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 1, 3 }, new[] { 0, 2 } }));
    }

    [Test]
    public void GreedyTieGoesToTheHigherExpertIndex()
    {
        // Both heads score 0.5 on n0; v2 compares with ≥ while scanning experts upwards, so e1 wins n0 and e0 gets n1.
        float[][] importance = [[0.5f, 0.1f], [0.5f, 0.2f]];
        Assert.That(GradientSplit.Greedy(importance).Experts, Is.EqualTo(new[] { new[] { 1 }, new[] { 0 } }));
    }

    [Test]
    public void ResidualSelectionTakesTheNeuronsImportantForMostClustersThenSplitsTheRestGreedily()
    {
        // I = 6, E = 2 routed + 1 residual share → m = 2, residual size 2.
        // s0 = [0.9, 0.1, 0.8, 0.2, 0.7, 0.05], s1 = [0.85, 0.75, 0.1, 0.3, 0.6, 0.02].
        // Pass 1: top-2 lists e0 {n0, n2}, e1 {n0, n1}; n0 is in 2 lists → R = {0}.
        // Pass 2 (excluding R): e0 {n2, n4}, e1 {n1, n4}; n4 is in 2 lists → R = {0, 4}, full.
        // Greedy over {1, 2, 3, 5}: e0 takes n2 (0.8 vs 0.75), e1 takes n1 (0.75 vs 0.2),
        // e1 takes n3 (0.3 vs 0.2) and is full, e0 takes n5 (n3, n1 used).
        float[][] importance = [[0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.05f], [0.85f, 0.75f, 0.1f, 0.3f, 0.6f, 0.02f]];
        var partition = GradientSplit.GreedyWithResidual(importance);
        Assert.That(partition.Residual, Is.EqualTo(new[] { 0, 4 }));
        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 2, 5 }, new[] { 1, 3 } }));
    }

    [Test]
    public void SharingLetsExpertsOverlap()
    {
        float[][] importance = [[0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.05f], [0.85f, 0.75f, 0.1f, 0.3f, 0.6f, 0.02f]];
        var partition = GradientSplit.Sharing(importance, 3);
        Assert.That(partition.Experts, Is.EqualTo(new[] { new[] { 0, 2, 4 }, new[] { 0, 1, 4 } }));
        Assert.That(partition.Overlap, Is.EqualTo(2));
    }

    [Test]
    public void MalformedImportanceIsRefusedWithACode()
    {
        float[][] ragged = [[0.1f, 0.2f], [0.3f]];
        Assert.That(Assert.Throws<LlamaMoeException>(() => GradientSplit.Greedy(ragged))!.Code, Is.EqualTo("LMOE2104"));
    }
}
