using System.Text.Json.Nodes;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>Native attention-MoE tensor keys, config round trip, the v2 layout mapping and slicer errors.</summary>
public sealed class AttentionMoeFormatTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void SavedModelHasTheDocumentedKeysAndReloadsToTheSameLogits()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 41);
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 2, split: 2) with { Layers = [1] };
        using var moe = AttentionMoeConversion.Apply(dense, options, seed: 9);
        using var work = new TempDirectory("attn-moe-native");
        moe.SaveDirectory(work.Path);

        using (var checkpoint = ShardedCheckpoint.Open(work.Path))
        {
            var names = checkpoint.Names.Where(name => name.StartsWith("model.layers.1.self_attn.", StringComparison.Ordinal)).Order().ToArray();
            var expected = new List<string> { "model.layers.1.self_attn.gate.weight" };
            foreach (var proj in new[] { "k_proj", "o_proj", "q_proj", "v_proj" })
            {
                expected.AddRange(Enumerable.Range(0, 4).Select(e => $"model.layers.1.self_attn.{proj}.{e}.weight"));
            }

            Assert.That(names, Is.EqualTo(expected.Order().ToArray()));
            Assert.That(names.All(AttentionMoeV2Layout.IsAttentionMoeKey), Is.True);
            Assert.That(checkpoint.Names, Does.Contain("model.layers.0.self_attn.q_proj.weight"), "layer 0 stays dense");
            using var q = checkpoint.Read("model.layers.1.self_attn.q_proj.3.weight");
            using var o = checkpoint.Read("model.layers.1.self_attn.o_proj.0.weight");
            using var gate = checkpoint.Read("model.layers.1.self_attn.gate.weight");
            Assert.That(q.shape, Is.EqualTo(new long[] { 16, 64 }));
            Assert.That(o.shape, Is.EqualTo(new long[] { 64, 16 }));
            Assert.That(gate.shape, Is.EqualTo(new long[] { 4, 64 }));
        }

        var path = Path.Combine(work.Path, ModelDirectory.ConfigFileName);
        var reread = LlamaConfigJson.Read(path, new HashSet<string> { AttentionMoeOptionsJson.ConfigKey });
        var loadedOptions = AttentionMoeOptionsJson.FromConfig(reread, path);
        Assert.That(loadedOptions, Is.EqualTo(options));
        using var checkpointForLoad = ShardedCheckpoint.Open(work.Path);
        using var loaded = LlamaForCausalLM.FromCheckpoint(reread, checkpointForLoad, factories: AttentionMoeConversion.Factories(loadedOptions!));
        using var scope = NewDisposeScope();
        var ids = Tokens(2, 10, config.VocabSize, seed: 13);
        Assert.That(MaxDifference(loaded.forward(ids), moe.forward(ids)), Is.EqualTo(0f));
    }

    [Test]
    public void V2ConfigMapsBothWaysAndInfersTheMissingExpertCount()
    {
        var config = Gqa();
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 2, scaleFactor: 1.25);
        var v2 = AttentionMoeV2Layout.ToV2Config(options, config);
        Assert.That(v2.ToJsonString(), Is.EqualTo("{\"use_attn_moe\":true,\"attn_experts\":4,\"top_k_attn\":3,\"scale_factor_attn\":1.25}"));
        Assert.That(AttentionMoeV2Layout.FromV2Config(v2, config), Is.EqualTo(options));

        // v2's converter never writes attn_experts: count the q_proj.{e} tensors instead.
        var withoutExperts = (JsonObject)JsonNode.Parse("{\"use_attn_moe\":true,\"top_k_attn\":3,\"scale_factor_attn\":1.25}")!;
        var error = Assert.Throws<LlamaMoeException>(() => AttentionMoeV2Layout.FromV2Config(withoutExperts, config));
        Assert.That(error!.Code, Is.EqualTo("LMOE2306"));
        Assert.That(error.Key, Is.EqualTo("attn_experts"));
        var keys = Enumerable.Range(0, 4).SelectMany(e => new[] { $"model.layers.0.self_attn.q_proj.{e}.weight", $"model.layers.0.self_attn.k_proj.{e}.weight" });
        Assert.That(AttentionMoeV2Layout.FromV2Config(withoutExperts, config, AttentionMoeV2Layout.CountExperts(keys, 0)), Is.EqualTo(options));

        Assert.That(AttentionMoeV2Layout.FromV2Config(new JsonObject { ["use_attn_moe"] = false }, config), Is.Null);
        Assert.That(AttentionMoeV2Layout.ToV2Config(null, config).ToJsonString(), Is.EqualTo("{\"use_attn_moe\":false}"));
        var partial = Assert.Throws<LlamaMoeException>(() => AttentionMoeV2Layout.ToV2Config(options with { Layers = [0] }, config));
        Assert.That(partial!.Code, Is.EqualTo("LMOE2306"));
    }

    [Test]
    public void V2KeysMapToNativeKeysAndOtherKeysAreRefused()
    {
        const string key = "model.layers.7.self_attn.o_proj.3.weight";
        Assert.That(AttentionMoeV2Layout.FromV2Key(AttentionMoeV2Layout.ToV2Key(key)), Is.EqualTo(key));
        Assert.That(AttentionMoeV2Layout.ToV2Key("model.layers.0.self_attn.gate.weight"), Is.EqualTo("model.layers.0.self_attn.gate.weight"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => AttentionMoeV2Layout.ToV2Key("model.layers.0.self_attn.q_proj.weight"))!.Code, Is.EqualTo("LMOE2306"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => AttentionMoeV2Layout.FromV2Key("model.layers.0.self_attn.o_proj.1.bias"))!.Code, Is.EqualTo("LMOE2306"));
        Assert.That(AttentionMoeV2Layout.FromV2Key("model.layers.0.self_attn.o_proj.1.bias", attentionBias: true), Is.EqualTo("model.layers.0.self_attn.o_proj.1.bias"));
    }

    [Test]
    public void MoeConfigAttentionObjectBuildsAttentionMoeBlocksInTheListedLayers()
    {
        var config = Gqa();
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 2, split: 2) with { Layers = [1] };
        var moeConfig = new LlamaMoe.Modeling.MoeModel.MoeConfig
        {
            Dense = config,
            ExpertCount = 2,
            TopK = 1,
            MoeLayers = [0],
            ExpertSizes = [[48, 48]],
            ScaleFactors = [1.0],
            AttentionMoe = AttentionMoeOptionsJson.Write(options),
        };
        var factory = AttentionMoeModelSupport.AttentionFactory(moeConfig)!;
        using var dense = factory(0, config);
        using var moe = factory(1, config);
        Assert.That(dense, Is.InstanceOf<LlamaAttention>());
        Assert.That(((AttentionMoeBlock)moe).Options, Is.EqualTo(options));
        Assert.That(AttentionMoeModelSupport.AttentionFactory(moeConfig with { AttentionMoe = null }), Is.Null);
    }

    [Test]
    public void SlicingWithAPartitionOfAnotherSplitIsLmoe2304()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 42);
        using var block = new AttentionMoeBlock(config, AttentionMoeOptions.ForAllLayers(config, topK: 2, split: 2));
        var weights = DenseAttentionWeights.From((LlamaAttention)dense.Model.Layers[0].Attention);
        var error = Assert.Throws<LlamaMoeException>(() => AttentionMoeSlicer.LoadDense(block, weights, AttentionExpertPartition.FromConfig(config, split: 1)));
        Assert.That(error!.Code, Is.EqualTo("LMOE2304"));
    }

    [Test]
    public void RouterInitIsSeededKaimingUniformOrZero()
    {
        var config = Gqa();
        using var a = new AttentionMoeBlock(config, AttentionMoeOptions.ForAllLayers(config, topK: 1));
        using var b = new AttentionMoeBlock(config, AttentionMoeOptions.ForAllLayers(config, topK: 1));
        AttentionMoeSlicer.InitializeRouter(a, AttentionRouterInit.KaimingUniform, seed: 3);
        AttentionMoeSlicer.InitializeRouter(b, AttentionRouterInit.KaimingUniform, seed: 3);
        using var scope = NewDisposeScope();
        Assert.That(a.Gate.InputProjection.eq(b.Gate.InputProjection).all().item<bool>(), Is.True);
        Assert.That(a.Gate.InputProjection.abs().max().item<float>(), Is.LessThanOrEqualTo(1f / MathF.Sqrt(64)));
        AttentionMoeSlicer.InitializeRouter(b, AttentionRouterInit.Zero);
        Assert.That(b.Gate.InputProjection.abs().sum().item<float>(), Is.EqualTo(0f));
    }
}
