using LlamaMoe.Modeling.Data;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests.Data;

public sealed class PackingGoldenTests
{
    // Example A: ids 10 11 12, targets on 11 12 (a prompt token then two answer tokens).
    // Example B: ids 20 21, target on 21.
    private static readonly EncodedExample A = new([10, 11, 12], [false, true, true]);
    private static readonly EncodedExample B = new([20, 21], [false, true]);

    [Test]
    public void PackingPutsBothExamplesInOneRowWithRestartingPositionsAndShiftedTargets()
    {
        var rows = SequencePacker.Build([A, B], new PackingOptions(6, Pack: true, PadId: 0));

        Assert.That(rows, Has.Count.EqualTo(1));
        var row = rows[0];
        Assert.That(row.Ids, Is.EqualTo(new[] { 10, 11, 12, 20, 21, 0 }));
        Assert.That(row.PositionIds, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 0 }));
        Assert.That(row.DocumentIds, Is.EqualTo(new[] { 0, 0, 0, 1, 1, -1 }));
        Assert.That(row.LossMask, Is.EqualTo(new[] { false, true, true, false, true, false }));
        // logits at t predict token t+1: t=0→11 ✓, t=1→12 ✓, t=2→20 (other document) ✗, t=3→21 ✓, t=4→pad ✗, t=5 last ✗.
        Assert.That(row.TargetMask(), Is.EqualTo(new[] { true, true, false, true, false, false }));
    }

    [Test]
    public void PackedAttentionIsBlockDiagonalCausalAndPaddingAttendsOnlyToItself()
    {
        var row = SequencePacker.Build([A, B], new PackingOptions(6, Pack: true))[0];
        var expected = new[]
        {
            "100000",
            "110000",
            "111000",
            "000100",
            "000110",
            "000001",
        };
        var actual = Enumerable.Range(0, 6).Select(q => string.Concat(Enumerable.Range(0, 6).Select(k => row.MayAttend(q, k) ? '1' : '0'))).ToArray();
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void PaddingModeGivesOneExamplePerRowWithZeroLossOnPads()
    {
        var rows = SequencePacker.Build([A, B], new PackingOptions(4, Pack: false, PadId: 7));

        Assert.That(rows, Has.Count.EqualTo(2));
        Assert.That(rows[0].Ids, Is.EqualTo(new[] { 10, 11, 12, 7 }));
        Assert.That(rows[0].TargetMask(), Is.EqualTo(new[] { true, true, false, false }));
        Assert.That(rows[1].Ids, Is.EqualTo(new[] { 20, 21, 7, 7 }));
        Assert.That(rows[1].LossMask, Is.EqualTo(new[] { false, true, false, false }));
        Assert.That(rows[1].TargetMask(), Is.EqualTo(new[] { true, false, false, false }));
    }

    [Test]
    public void ExampleThatDoesNotFitStartsANewRowAndLongExamplesAreTruncated()
    {
        var longExample = EncodedExample.AllTargets([1, 2, 3, 4, 5, 6, 7]);
        var rows = SequencePacker.Build([A, B, longExample], new PackingOptions(4, Pack: true));

        Assert.That(rows.Select(r => string.Join(' ', r.Ids)), Is.EqualTo(new[] { "10 11 12 0", "20 21 0 0", "1 2 3 4" }));
    }

    [Test]
    public void ExamplesWithoutTargetsAreDropped()
    {
        var promptOnly = new EncodedExample([5, 6], [false, false]);
        Assert.That(SequencePacker.Build([promptOnly, B], new PackingOptions(4, Pack: false)), Has.Count.EqualTo(1));
    }

    [Test]
    public void CollatorBuildsShiftedTargetsMasksAndABlockDiagonalAttentionTensor()
    {
        TorchRuntime.EnsureLoaded();
        var rows = SequencePacker.Build([A, B], new PackingOptions(6, Pack: true));
        using var batch = BatchCollator.Collate(rows, packed: true, torch.CPU);

        Assert.That(batch.Targets.data<long>().ToArray(), Is.EqualTo(new long[] { 11, 12, 20, 21, 0, 0 }));
        Assert.That(batch.TargetMask.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 1, 0, 1, 0, 0 }));
        Assert.That(batch.PositionIds!.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 0, 1, 0 }));
        Assert.That(batch.AttentionMask!.shape, Is.EqualTo(new long[] { 1, 1, 6, 6 }));
        Assert.That(batch.AttentionMask[0, 0, 4, 3].item<bool>(), Is.True);
        Assert.That(batch.AttentionMask[0, 0, 3, 2].item<bool>(), Is.False);
        Assert.That(batch.TargetCount, Is.EqualTo(3));
        Assert.That(batch.TokenCount, Is.EqualTo(5));
    }

    [Test]
    public void UnpackedCollationTrimsToTheLongestRowAndUsesThePlainCausalMask()
    {
        TorchRuntime.EnsureLoaded();
        var rows = SequencePacker.Build([A, B], new PackingOptions(8, Pack: false));
        using var batch = BatchCollator.Collate(rows, packed: false, torch.CPU);

        Assert.That(batch.InputIds.shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(batch.AttentionMask, Is.Null);
        Assert.That(batch.TargetMask.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 1, 0, 1, 0, 0 }));
    }
}
