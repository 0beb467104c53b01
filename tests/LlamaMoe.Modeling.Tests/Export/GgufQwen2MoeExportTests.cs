using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Tensors;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>The residual variant exported to GGUF through llama.cpp's qwen2moe architecture.</summary>
public sealed class GgufQwen2MoeExportTests() : ImportedDenseFixture("gguf-qwen2moe")
{
    private static readonly string[] LayerTensors =
    [
        "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_norm.weight", "ffn_gate_inp.weight",
        "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight", "ffn_gate_inp_shexp.weight", "ffn_gate_shexp.weight", "ffn_up_shexp.weight", "ffn_down_shexp.weight",
    ];

    [Test]
    public void TheResidualStoriesMoeExportsAsQwen2MoeWithItsOwnTensorsAfterFolding()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 2, scale: 2.0, residual: 44, weights: RoutingWeights.Softmax);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var path = Work.Combine("residual.gguf");
        var summary = ModelExporter.ExportMoe(checkpoint, Work.Combine("dense"), "gguf", path);
        Assert.That(summary, Does.Contain("gguf"));

        var file = GgufFile.Read(path);
        var config = checkpoint.Config.Dense;
        Assert.That(file.Metadata["general.architecture"], Is.EqualTo("qwen2moe"));
        Assert.That(file.Metadata["qwen2moe.expert_count"], Is.EqualTo(4u));
        Assert.That(file.Metadata["qwen2moe.expert_used_count"], Is.EqualTo(2u));
        Assert.That(file.Metadata["qwen2moe.expert_feed_forward_length"], Is.EqualTo((uint)checkpoint.Config.ExpertSizes[0][0]));
        Assert.That(file.Metadata["qwen2moe.expert_shared_feed_forward_length"], Is.EqualTo(44u));
        Assert.That(file.Metadata["qwen2moe.block_count"], Is.EqualTo((uint)config.NumHiddenLayers));
        Assert.That(file.Metadata["qwen2moe.attention.head_count_kv"], Is.EqualTo((uint)config.NumKeyValueHeads));
        Assert.That(file.Metadata["qwen2moe.rope.dimension_count"], Is.EqualTo((uint)config.HeadDim));
        Assert.That(file.Metadata.Keys.Where(k => k.StartsWith("llama.", StringComparison.Ordinal)), Is.Empty);
        Assert.That(file.Metadata["tokenizer.ggml.model"], Is.EqualTo("llama"), "the SentencePiece tokenizer travels along");

        string[] expectedNames =
        [
            "token_embd.weight", .. Enumerable.Range(0, config.NumHiddenLayers).SelectMany(i => LayerTensors.Select(t => $"blk.{i}.{t}")), "output_norm.weight", "output.weight",
        ];
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(expectedNames), "qwen2moe requires output.weight even with tied embeddings");

        var m = checkpoint.Config.ExpertSizes[0][0];
        long h = config.HiddenSize;
        Assert.That(Info(file, "blk.0.ffn_gate_exps.weight").Dims, Is.EqualTo(new long[] { h, m, 4 }));
        Assert.That(Info(file, "blk.0.ffn_down_exps.weight").Dims, Is.EqualTo(new long[] { m, h, 4 }));
        Assert.That(Info(file, "blk.0.ffn_gate_inp.weight").Dims, Is.EqualTo(new long[] { h, 4 }));
        Assert.That(Info(file, "blk.0.ffn_gate_inp_shexp.weight").Dims, Is.EqualTo(new long[] { h }));
        Assert.That(Info(file, "blk.0.ffn_down_shexp.weight").Dims, Is.EqualTo(new long[] { 44, h }));

        using var scope = NewDisposeScope();
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            Tensor Native(string name) => checkpoint[name];
            AssertEqual(file, $"blk.{i}.attn_q.weight", Native(DenseTensorNames.InLayer(i, "self_attn.q_proj.weight")), "qwen2moe rotates halves: no q/k permutation");
            AssertEqual(file, $"blk.{i}.attn_k.weight", Native(DenseTensorNames.InLayer(i, "self_attn.k_proj.weight")), "k rows unpermuted");
            AssertEqual(file, $"blk.{i}.ffn_gate_inp.weight", Native(MoeTensorNames.Router(i)), "router");
            AssertEqual(file, $"blk.{i}.ffn_up_exps.weight", stack(Enumerable.Range(0, 4).Select(j => Native(MoeTensorNames.Expert(i, j, "w3"))).ToArray()), "stacked up");
            AssertEqual(file, $"blk.{i}.ffn_down_exps.weight", stack(Enumerable.Range(0, 4).Select(j => Native(MoeTensorNames.Expert(i, j, "w2")).mul(2.0)).ToArray()), "scale folded into down");
            AssertEqual(file, $"blk.{i}.ffn_gate_shexp.weight", Native(MoeTensorNames.Residual(i, "w1")), "shared gate projection");
            AssertEqual(file, $"blk.{i}.ffn_down_shexp.weight", Native(MoeTensorNames.Residual(i, "w2")).mul(2.0), "shared down doubled against sigmoid = 1/2");

            var gate = Read(file, $"blk.{i}.ffn_gate_inp_shexp.weight");
            var norm = Native(DenseTensorNames.InLayer(i, "post_attention_layernorm.weight"));
            Assert.That(gate.count_nonzero().item<long>(), Is.EqualTo(1), "one coordinate carries the gate");
            var bound = gate.abs().max().item<float>() * Math.Sqrt(h) * norm.abs().max().item<float>();
            Assert.That(bound, Is.EqualTo(GgufQwen2MoeExporter.SharedGateBound).Within(1e-3).Percent, "|g·x| <= 1e-8 for every RMS-normed input");
        }

        AssertEqual(file, "output.weight", checkpoint[config.TieWordEmbeddings ? DenseTensorNames.Embedding : DenseTensorNames.LmHead], "output");
    }

    [Test]
    public void LlamaCppRunsTheResidualGgufWithOurLogits()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 2, scale: 2.0, residual: 44, weights: RoutingWeights.Softmax);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var path = Work.Combine("residual-llamacpp.gguf");
        GgufQwen2MoeExporter.Export(checkpoint, Work.Combine("dense"), path);

        var ours = MoeTestModels.Logits(moe, MoeTestModels.TestIds);
        Assert.That(LlamaCppRunner.MaxAbsDiff(ours, MoeTestModels.Logits(Dense, MoeTestModels.TestIds)), Is.GreaterThan(1e-2), "the MoE differs from the dense model, so the check is not vacuous");
        var theirs = LlamaCppRunner.Logits(path, MoeTestModels.TestIds);
        var diff = LlamaCppRunner.MaxAbsDiff(ours, theirs);
        TestContext.Out.WriteLine($"residual stories260K MoE (44 + 4 experts, top-2, scale 2) as qwen2moe, 32 tokens: max |ours - llama.cpp| = {diff:E3}");
        Assert.That(diff, Is.LessThan(1e-3));
    }

    [Test]
    public void RenormalisedTopKBelowTheExpertCountIsRefusedWithItsOwnCode()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 2, scale: 1.0, residual: 44);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var path = Work.Combine("renormalised.gguf");
        var ex = Assert.Throws<LlamaMoeException>(() => ModelExporter.ExportMoe(checkpoint, Work.Combine("dense"), "gguf", path));
        Assert.That(ex!.Code, Is.EqualTo(ExportErrorCodes.GgufRoutingNotExpressible));
        Assert.That(ex.Message, Does.Contain("qwen2moe"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void RenormalisedRoutingOverEveryExpertIsTheSameAsQwen2MoeRoutingAndExports()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 4, scale: 1.0, residual: 44);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var path = Work.Combine("all-experts.gguf");
        ModelExporter.ExportMoe(checkpoint, Work.Combine("dense"), "gguf", path);
        Assert.That(GgufFile.Read(path).Metadata["qwen2moe.expert_used_count"], Is.EqualTo(4u));
    }

    [Test]
    public void AResidualModelWithDenseLayersIsRefusedBecauseQwen2MoeHasNone()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 2, scale: 1.0, residual: 44, moeLayers: [1, 2], weights: RoutingWeights.Softmax);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var ex = Assert.Throws<LlamaMoeException>(() => GgufQwen2MoeExporter.Export(checkpoint, null, Work.Combine("dense-layers.gguf")));
        Assert.That(ex!.Code, Is.EqualTo(ExportErrorCodes.DenseLayersNotExportable));
    }

    [Test]
    public void ModelsWithoutAResidualExpertStillExportThroughTheLlamaArchitecture()
    {
        using var moe = MoeTestModels.FromDense(Dense, experts: 4, topK: 2, scale: 2.0);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var path = Work.Combine("llama.gguf");
        ModelExporter.ExportMoe(checkpoint, Work.Combine("dense"), "gguf", path);
        Assert.That(GgufFile.Read(path).Metadata["general.architecture"], Is.EqualTo("llama"));
    }

    private static GgufTensorInfo Info(GgufFile file, string name) => file.Tensors.Single(t => t.Name == name);

    /// <summary>An F32 tensor's data in torch layout (GGUF dims reversed).</summary>
    private static Tensor Read(GgufFile file, string name)
    {
        var info = Info(file, name);
        Assert.That(info.Type, Is.EqualTo((uint)GgufTensorType.F32), name);
        var bytes = new byte[info.ByteCount];
        using (var stream = File.OpenRead(file.Path))
        {
            stream.Position = info.Offset;
            stream.ReadExactly(bytes);
        }

        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values).reshape(info.Dims.Reverse().ToArray());
    }

    private static void AssertEqual(GgufFile file, string name, Tensor expected, string because)
    {
        var actual = Read(file, name);
        Assert.That(actual.shape, Is.EqualTo(expected.shape), $"{name}: shape");
        Assert.That(actual.eq(expected.to_type(ScalarType.Float32)).all().item<bool>(), Is.True, $"{name}: {because}");
    }
}
