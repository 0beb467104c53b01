using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>
/// With every expert selected at weight 1, scale 1 and no token dropped, each expert sees every token, so the sum of
/// the experts' o_proj slices reproduces the dense attention: the converted model's logits equal the dense logits.
/// </summary>
public sealed class AttentionMoeLosslessTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    public void AllExpertsWithUnitWeightsReproduceTheDenseLogits(int split)
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 11);
        using var moe = AttentionMoeConversion.Apply(dense, AllExpertsUnit(config, split), seed: 5);
        using var scope = NewDisposeScope();
        var ids = Tokens(2, 24, config.VocabSize, seed: 3);
        Assert.That(Blocks(moe), Has.Length.EqualTo(2));
        Assert.That(Blocks(moe)[0].Options.NumExperts, Is.EqualTo(2 * split));
        Assert.That(MaxDifference(moe.forward(ids), dense.forward(ids)), Is.LessThan(1e-5f));
    }

    [Test]
    public void ZeroRouterWithScaleNIsLosslessUnderV2Routing()
    {
        // Softmax of zero logits gives 1/n to every expert; top-k = n, renormalised, times scale n = 1.
        var config = Gqa();
        using var dense = DenseModel(config, seed: 12);
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 4, split: 2, scaleFactor: 4.0);
        using var moe = AttentionMoeConversion.Apply(dense, options, AttentionRouterInit.Zero);
        using var scope = NewDisposeScope();
        var ids = Tokens(1, 20, config.VocabSize, seed: 4);
        Assert.That(MaxDifference(moe.forward(ids), dense.forward(ids)), Is.LessThan(1e-5f));
    }

    [Test]
    public void LosslessWithAttentionBiasesAndAPaddingMask()
    {
        var config = Gqa(attentionBias: true);
        using var dense = DenseModel(config, seed: 13);
        using var moe = AttentionMoeConversion.Apply(dense, AllExpertsUnit(config, split: 2));
        using var scope = NewDisposeScope();
        var ids = Tokens(2, 12, config.VocabSize, seed: 5);
        var padding = ones(2, 12, ScalarType.Int64);
        padding[1, TensorIndex.Slice(8, 12)] = zeros(4, ScalarType.Int64);                                   // (B, S): row 1 right-padded
        var expected = dense.Forward(ids, attentionMask: padding).Logits;
        var actual = moe.Forward(ids, attentionMask: padding).Logits;
        Assert.That(MaxDifference(actual, expected), Is.LessThan(1e-5f));
    }

    [Test]
    public void OnlySomeLayersConvertedStaysLossless()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 14);
        var options = AllExpertsUnit(config, split: 1) with { Layers = [1] };
        using var moe = AttentionMoeConversion.Apply(dense, options);
        using var scope = NewDisposeScope();
        Assert.That(moe.Model.Layers[0].Attention, Is.InstanceOf<LlamaAttention>());
        Assert.That(moe.Model.Layers[1].Attention, Is.InstanceOf<AttentionMoeBlock>());
        var ids = Tokens(1, 16, config.VocabSize, seed: 6);
        Assert.That(MaxDifference(moe.forward(ids), dense.forward(ids)), Is.LessThan(1e-5f));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void Stories260KAttentionMoeReproducesTheDenseLogits(int split)
    {
        using var work = new TempDirectory("attn-moe-stories");
        ModelImporter.Import(SharedData.Stories260KBin, work.Combine("model"), SharedData.Tok512Model);
        using var dense = LlamaForCausalLM.FromDirectory(work.Combine("model"), dtype: ScalarType.Float32);
        var config = dense.Config;
        Assert.That(config.NumKeyValueHeads, Is.LessThan(config.NumAttentionHeads), "stories260K uses GQA");
        using var moe = AttentionMoeConversion.Apply(dense, AllExpertsUnit(config, split));
        using var scope = NewDisposeScope();
        var ids = Tokens(2, 48, config.VocabSize, seed: 7);
        Assert.That(MaxDifference(moe.forward(ids), dense.forward(ids)), Is.LessThan(1e-5f));
    }

    [Test]
    public void FewerExpertsThanAllChangeTheOutput()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 15);
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 1, split: 2) with { Weights = RoutingWeights.Unit };
        using var moe = AttentionMoeConversion.Apply(dense, options, seed: 1);
        using var scope = NewDisposeScope();
        var ids = Tokens(1, 16, config.VocabSize, seed: 8);
        Assert.That(MaxDifference(moe.forward(ids), dense.forward(ids)), Is.GreaterThan(1e-3f));
    }
}
