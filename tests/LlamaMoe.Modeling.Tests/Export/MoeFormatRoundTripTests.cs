using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Tensors;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

public sealed class MoeFormatRoundTripTests() : ImportedDenseFixture("moe-formats")
{
    [Test]
    public void NativeWriteReadIsBitwiseIdentical()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 2.0, residual: 44, moeLayers: [1, 2, 3]);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("native");
        NativeMoeFormat.Write(checkpoint, dir);
        using var back = NativeMoeFormat.Read(dir);
        Assert.That(back.Config.MoeLayers, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(back.Config.ResidualSize, Is.EqualTo(44));
        Assert.That(back.Config.ExpertSizes.SelectMany(s => s), Is.All.EqualTo(32));
        AssertSameTensors(checkpoint, back, name => name);
    }

    [Test]
    public void MixtralExportFoldsScaleAndReadsBackWithEqualLogits()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 2.0);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("mixtral");
        MixtralFormat.Write(checkpoint, dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.That(config["model_type"]!.GetValue<string>(), Is.EqualTo("mixtral"));
        Assert.That(config["architectures"]![0]!.GetValue<string>(), Is.EqualTo("MixtralForCausalLM"));
        Assert.That(config["intermediate_size"]!.GetValue<int>(), Is.EqualTo(43));
        Assert.That(config["num_local_experts"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(config["num_experts_per_tok"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(config["output_router_logits"]!.GetValue<bool>(), Is.False);
        Assert.That(config.ContainsKey("sliding_window") && config["sliding_window"] is null, Is.True);
        using (var weights = ShardedCheckpoint.Open(dir))
        using (var w2 = weights.Read(MoeTensorNames.Expert(0, 1, "w2")))
        {
            Assert.That(w2.allclose(checkpoint[MoeTensorNames.Expert(0, 1, "w2")].mul(2.0)), Is.True, "scale folded into w2");
        }

        using var back = MixtralFormat.Read(dir);
        Assert.That(back.Config.ScaleFactors, Is.All.EqualTo(1.0));
        Assert.That(back.Config.Dense.IntermediateSize, Is.EqualTo(172));
        using var reloaded = back.ToModel();
        var diff = LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(moe, MoeTestModels.TestIds), MoeTestModels.Logits(reloaded, MoeTestModels.TestIds));
        Assert.That(diff, Is.LessThan(1e-5));
    }

    [TestCase(44, null, "LMOE1210")]
    [TestCase(0, new[] { 0, 1, 2 }, "LMOE1212")]
    public void MixtralExportRefusesModelsThatDoNotFit(int residual, int[]? moeLayers, string code)
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 1.0, residual, moeLayers);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var ex = Assert.Throws<LlamaMoeException>(() => MixtralFormat.Write(checkpoint, Work.Combine("refused-" + code)));
        Assert.That(ex!.Code, Is.EqualTo(code));
    }

    [Test]
    public void MixtralExportRefusesTanhRouter()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 1.0, router: RouterNetwork.TanhMlp, weights: RoutingWeights.SoftmaxOverTopK);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        Assert.That(Assert.Throws<LlamaMoeException>(() => MixtralFormat.Write(checkpoint, Work.Combine("tanh")))!.Code, Is.EqualTo("LMOE1214"));
    }

    [Test]
    public void LlamaMoeV2KeepsResidualAtLayerLevelAndRoundTrips()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 4.0, residual: 44);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("v2");
        LlamaMoeV2Format.Write(checkpoint, dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.That(config["scale_factor"]!.GetValue<double>(), Is.EqualTo(4.0));
        Assert.That(config["intermediate_size_residual"]!.GetValue<int>(), Is.EqualTo(44));
        Assert.That(config["intermediate_size"]!.GetValue<int>(), Is.EqualTo(32));
        using (var weights = ShardedCheckpoint.Open(dir))
        {
            Assert.That(weights.Contains("model.layers.2.mlp_residual.w1.weight"), Is.True);
            Assert.That(weights.Names.Any(n => n.Contains("block_sparse_moe.mlp_residual", StringComparison.Ordinal)), Is.False);
        }

        using var back = LlamaMoeV2Format.Read(dir);
        Assert.That(back.Config.ResidualSize, Is.EqualTo(44));
        Assert.That(back.Config.ScaleFactors, Is.All.EqualTo(4.0));
        Assert.That(back.Config.Dense.IntermediateSize, Is.EqualTo(172));
        AssertSameTensors(checkpoint, back, name => name);
    }

    [Test]
    public void LlamaMoeV1HandBuiltCheckpointReadsToAnEquivalentModel()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 2.0, router: RouterNetwork.TanhMlp, weights: RoutingWeights.SoftmaxOverTopK, noisy: true);
        var dir = MoeTestModels.WriteLlamaMoeV1(moe, Work.Combine("v1"), experts: 4, topK: 2, expertSize: 43, scale: 2.0);

        using var back = LlamaMoeV1Reader.Read(dir);
        Assert.That(back.Config.Router.Network, Is.EqualTo(RouterNetwork.TanhMlp));
        Assert.That(back.Config.Router.Weights, Is.EqualTo(RoutingWeights.SoftmaxOverTopK));
        Assert.That(back.Config.Router.Noisy, Is.True);
        using var reloaded = back.ToModel();
        Assert.That(LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(moe, MoeTestModels.TestIds), MoeTestModels.Logits(reloaded, MoeTestModels.TestIds)), Is.EqualTo(0.0));
    }

    private static void AssertSameTensors(MoeCheckpoint expected, MoeCheckpoint actual, Func<string, string> rename)
    {
        Assert.That(actual.Tensors.Select(t => t.Key).Order(), Is.EqualTo(expected.Tensors.Select(t => rename(t.Key)).Order()));
        foreach (var (name, tensor) in expected.Tensors)
        {
            Assert.That(actual[rename(name)].bytes.SequenceEqual(tensor.bytes), Is.True, name);
        }
    }
}
