using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>MoeConverter with an <see cref="AttentionMoePlan"/>: the streamed attention experts equal the in-memory slicing.</summary>
public sealed class AttentionMoeStreamingConversionTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCase(false)]
    [TestCase(true)]
    public void StreamedAttentionExpertsEqualTheInMemoryConversion(bool attentionBias)
    {
        var config = Gqa(attentionBias);
        using var work = new TempDirectory("attn-moe-stream");
        using var dense = DenseModel(config, seed: 21);
        dense.SaveDirectory(work.Combine("dense"));
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 2, scaleFactor: 1.5) with { Layers = [1] };
        var construction = new ConstructionOptions(Experts: 2, TopK: 1, Split: "sequential");
        var plans = ConstructionPlanner.Plan(work.Combine("dense"), construction, null);
        var attention = AttentionMoePlan.Create(config, options, AttentionRouterInit.KaimingUniform, seed: 9);
        var moeConfig = MoeConverter.Convert(work.Combine("dense"), work.Combine("moe"), plans, ConstructionPlanner.ConversionOptions(construction), attention);
        attention.DisposeRouters();

        Assert.That(AttentionMoeOptionsJson.Read(moeConfig.AttentionMoe), Is.EqualTo(options));
        using var inMemory = AttentionMoeConversion.Apply(dense, options, AttentionRouterInit.KaimingUniform, seed: 9);
        var expected = StateDictLoader.NamedTensors(inMemory).Where(p => p.Key.StartsWith("model.layers.1.self_attn.", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value);
        using var checkpoint = ShardedCheckpoint.Open(work.Combine("moe"));
        var streamed = checkpoint.Names.Where(n => n.StartsWith("model.layers.1.self_attn.", StringComparison.Ordinal)).ToArray();
        Assert.That(streamed.Order(), Is.EqualTo(expected.Keys.Order()));
        Assert.That(checkpoint.Names, Does.Contain("model.layers.0.self_attn.q_proj.weight"), "layer 0 keeps dense attention");
        using var scope = NewDisposeScope();
        foreach (var name in streamed)
        {
            Assert.That(checkpoint.Read(name).eq(expected[name].detach()).all().item<bool>(), Is.True, name);
        }

        using var loaded = CausalLanguageModelLoader.Load(work.Combine("moe"));
        Assert.That(Blocks(loaded).Single().Options, Is.EqualTo(options));
    }

    [Test]
    public void ParameterCountsIncludeTheAttentionExpertsAndTheirCopiedKeyValueHeads()
    {
        var config = Gqa();
        using var work = new TempDirectory("attn-moe-count");
        using var dense = DenseModel(config, seed: 22);
        dense.SaveDirectory(work.Combine("dense"));
        var construction = new ConstructionOptions(Experts: 2, TopK: 1, Split: "sequential");
        var plans = ConstructionPlanner.Plan(work.Combine("dense"), construction, null);
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 4);
        var attention = AttentionMoePlan.Create(config, options);
        var moeConfig = MoeConverter.Convert(work.Combine("dense"), work.Combine("moe"), plans, ConstructionPlanner.ConversionOptions(construction), attention);
        attention.DisposeRouters();
        using var loaded = CausalLanguageModelLoader.Load(work.Combine("moe"));
        var (total, active) = MoeModelFactory.ParameterCounts(moeConfig);
        Assert.That(total, Is.EqualTo(loaded.parameters().Sum(p => p.numel())));

        // Per attention expert (split 4, G = 4): one query head (q and o: 2·8·64) and a K/V copy (2·8·64); top-3 of 8 run.
        var perExpert = (2L * 8 * 64) + (2L * 8 * 64);
        var denseActive = MoeModelFactory.ParameterCounts(moeConfig with { AttentionMoe = null }).Active;
        var denseAttention = (2L * 64 * 64) + (2L * 16 * 64);
        Assert.That(active, Is.EqualTo(denseActive + (config.NumHiddenLayers * ((3 * perExpert) + (8L * 64) - denseAttention))));
    }
}
