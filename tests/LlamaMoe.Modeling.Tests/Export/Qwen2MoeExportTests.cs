using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Tensors;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

public sealed class Qwen2MoeExportTests() : ImportedDenseFixture("qwen2-moe")
{
    [Test]
    public void TheResidualVariantExportsAsQwen2MoeWithAZeroGateAndADoubledSharedDownProjection()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 1, 2.0, residual: 44, moeLayers: [1, 2, 3]);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("layout");
        ModelExporter.ExportMoe(checkpoint, Work.Combine("dense"), "qwen2-moe", dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.That(config["model_type"]!.GetValue<string>(), Is.EqualTo("qwen2_moe"));
        Assert.That(config["architectures"]![0]!.GetValue<string>(), Is.EqualTo("Qwen2MoeForCausalLM"));
        Assert.That(config["num_experts"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(config["moe_intermediate_size"]!.GetValue<int>(), Is.EqualTo(32));
        Assert.That(config["shared_expert_intermediate_size"]!.GetValue<int>(), Is.EqualTo(44));
        Assert.That(config["norm_topk_prob"]!.GetValue<bool>(), Is.True);
        Assert.That(config["mlp_only_layers"]!.AsArray().Select(n => n!.GetValue<int>()), Is.EqualTo(new[] { 0, 4 }));
        using var weights = ShardedCheckpoint.Open(dir);
        using (var gate = weights.Read("model.layers.1.mlp.shared_expert_gate.weight"))
        using (var shared = weights.Read("model.layers.1.mlp.shared_expert.down_proj.weight"))
        using (var expert = weights.Read("model.layers.1.mlp.experts.2.down_proj.weight"))
        {
            Assert.That(gate.shape, Is.EqualTo(new long[] { 1, 64 }));
            Assert.That(gate.abs().max().item<float>(), Is.Zero);
            Assert.That(shared.eq(checkpoint[MoeTensorNames.Residual(1, "w2")].mul(2.0)).all().item<bool>(), Is.True, "the shared expert's down_proj is doubled, bit for bit");
            Assert.That(expert.eq(checkpoint[MoeTensorNames.Expert(1, 2, "w2")].mul(2.0)).all().item<bool>(), Is.True, "the scale is folded into the routed experts");
        }

        Assert.That(weights.Names, Does.Contain("model.layers.0.mlp.gate_proj.weight"), "the dense layer keeps its MLP");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void AStockQwen2MoeForwardOfTheExportGivesOurLogits(int topK)
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, topK, 2.0, residual: 44, moeLayers: [1, 2, 3]);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine($"stock-{topK}");
        Qwen2MoeFormat.Write(checkpoint, dir);
        var ours = MoeTestModels.Logits(moe, MoeTestModels.TestIds);
        var stock = StockQwen2MoeForward.Logits(dir, MoeTestModels.TestIds);
        AssertRelativelyClose(stock, ours, 1e-5);
    }

    [Test]
    public void ImportingTheExportGivesBackTheNativeTensorsAndLogits()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 2.0, residual: 44, moeLayers: [1, 2, 3]);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("roundtrip");
        Qwen2MoeFormat.Write(checkpoint, dir);
        using var back = ModelExporter.ReadMoe(dir);
        Assert.That(back.Config.MoeLayers, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(back.Config.ResidualSize, Is.EqualTo(44));
        Assert.That(back.Config.ScaleFactors, Is.All.EqualTo(1.0));
        Assert.That(back[MoeTensorNames.Residual(2, "w2")].eq(checkpoint[MoeTensorNames.Residual(2, "w2")]).all().item<bool>(), Is.True, "halving undoes the doubling exactly");
        using var reloaded = back.ToModel();
        AssertRelativelyClose(MoeTestModels.Logits(reloaded, MoeTestModels.TestIds), MoeTestModels.Logits(moe, MoeTestModels.TestIds), 1e-5);
        using var loaded = LlamaMoe.Modeling.Loading.CausalLanguageModelLoader.Load(dir, CPU, ScalarType.Float32);
        AssertRelativelyClose(MoeTestModels.Logits(loaded, MoeTestModels.TestIds), MoeTestModels.Logits(moe, MoeTestModels.TestIds), 1e-5);
    }

    [Test]
    public void AModelWithoutAResidualExpertIsRefused()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 2, 1.0);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var error = Assert.Throws<LlamaMoeException>(() => Qwen2MoeFormat.Write(checkpoint, Work.Combine("no-residual")));
        Assert.That(error!.Code, Is.EqualTo(ExportErrorCodes.QwenNotExpressible));
    }

    [Test]
    public void ATrainedNonZeroSharedExpertGateIsRefusedOnImport()
    {
        using var moe = MoeTestModels.FromDense(Dense, 4, 1, 1.0, residual: 44);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var dir = Work.Combine("gate");
        Qwen2MoeFormat.Write(checkpoint, dir);
        var file = Directory.GetFiles(dir, "*.safetensors").Single();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var weights = ShardedCheckpoint.Open(dir))
        {
            tensors.AddRange(weights.Names.Select(n => new KeyValuePair<string, Tensor>(n, n == "model.layers.2.mlp.shared_expert_gate.weight" ? full(weights.Info(n).Shape, 0.25f) : weights.Read(n))));
        }

        SafetensorsWriter.Write(file, tensors);
        var error = Assert.Throws<LlamaMoeException>(() => Qwen2MoeFormat.Read(dir).Dispose());
        Assert.That(error!.Code, Is.EqualTo(ExportErrorCodes.QwenGateNotZero));
        Assert.That(error.Key, Is.EqualTo("model.layers.2.mlp.shared_expert_gate.weight"));
    }

    private static void AssertRelativelyClose(float[,] actual, float[,] expected, double relative)
    {
        var scale = expected.Cast<float>().Max(v => Math.Abs(v));
        Assert.That(LlamaCppRunner.MaxAbsDiff(actual, expected), Is.LessThanOrEqualTo(relative * scale), $"relative to max |logit| {scale}");
    }
}
