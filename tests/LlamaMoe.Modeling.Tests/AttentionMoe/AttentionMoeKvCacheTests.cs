using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Llama;
using NUnit.Framework;
using TorchSharp;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>Per-expert KV caches: incremental decoding equals a full forward, and each expert caches only its tokens.</summary>
public sealed class AttentionMoeKvCacheTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCase(1, 1)]
    [TestCase(2, 2)]
    public void IncrementalDecodingEqualsTheFullForward(int batch, int split)
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 31);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: split, split: split, scaleFactor: 2.0), seed: 3);
        using var scope = NewDisposeScope();
        var ids = Tokens(batch, 12, config.VocabSize, seed: 11);                                          // (B, 12)
        var full = moe.forward(ids);                                                                      // (B, 12, V)
        using var cache = new KvCache(config.NumHiddenLayers);
        var steps = new List<Tensor> { moe.Forward(ids.narrow(1, 0, 5), cache: cache).Logits };         // prefill 5
        steps.Add(moe.Forward(ids.narrow(1, 5, 3), cache: cache).Logits);                               // a 3-token chunk
        for (var t = 8; t < 12; t++)
        {
            steps.Add(moe.Forward(ids.narrow(1, t, 1), cache: cache).Logits);                           // one token at a time
        }

        Assert.That(cache.Length, Is.EqualTo(12));
        Assert.That(MaxDifference(cat(steps, 1), full), Is.LessThan(1e-5f));
        Assert.That(MaxDifference(full, dense.forward(ids)), Is.GreaterThan(1e-3f), "sparse routing must differ from dense");
    }

    [Test]
    public void EachExpertCachesOnlyTheTokensRoutedToIt()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 32);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: 1, split: 2), seed: 4);
        var block = Blocks(moe)[1];
        block.RecordRouting = true;
        using var scope = NewDisposeScope();
        var ids = Tokens(1, 10, config.VocabSize, seed: 12);
        moe.forward(ids);
        var selected = block.LastSelectedExperts!.view(-1).data<long>().ToArray();                      // (T) with top-1

        using var cache = new KvCache(config.NumHiddenLayers);
        moe.Forward(ids.narrow(1, 0, 6), cache: cache);
        for (var t = 6; t < 10; t++)
        {
            moe.Forward(ids.narrow(1, t, 1), cache: cache);
        }

        var state = cache.LayerState<AttentionExpertCache>(1, () => throw new AssertionException("layer 1 has no expert cache"));
        Assert.That(state.Length, Is.EqualTo(10));
        for (var e = 0; e < 4; e++)
        {
            var expected = Enumerable.Range(0, 10).Where(t => selected[t] == e).Select(t => (long)t).ToArray();
            Assert.That(state.CachedPositions(e)[0], Is.EqualTo(expected), $"expert {e}");
        }

        Assert.That(Enumerable.Range(0, 4).Sum(e => state.CachedPositions(e)[0].Length), Is.EqualTo(10), "top-1: every token cached once");
    }

    [Test]
    public void ReusingTheCacheWithAnotherBatchSizeIsACodedError()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 33);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: 1));
        using var scope = NewDisposeScope();
        using var cache = new KvCache(config.NumHiddenLayers);
        moe.Forward(Tokens(2, 4, config.VocabSize, seed: 1), cache: cache);
        var error = Assert.Throws<LlamaMoeException>(() => moe.Forward(Tokens(1, 1, config.VocabSize, seed: 2), cache: cache));
        Assert.That(error!.Code, Is.EqualTo("LMOE2307"));
    }
}
