using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Formats.SentencePiece;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

public sealed class GgufExportTests
{
    private static TempDirectory? work;
    private static string denseDir = string.Empty;

    [OneTimeSetUp]
    public void ImportDense()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("gguf-export");
        denseDir = MoeTestModels.ImportStories(work.Combine("dense"));
    }

    [OneTimeTearDown]
    public void Cleanup() => work?.Dispose();

    [Test]
    public void DenseStoriesExportReimportsBitwiseIdentical()
    {
        var path = work!.Combine("dense.gguf");
        using var model = LlamaForCausalLM.FromDirectory(denseDir);
        GgufLlamaExporter.ExportDense(model.Config, StateDictLoader.NamedTensors(model), denseDir, path);

        var file = GgufFile.Read(path);
        Assert.That(file.Version, Is.EqualTo(3u));
        Assert.That(file.Metadata["general.alignment"], Is.EqualTo(32u));
        Assert.That(file.Tensors.All(t => t.Offset % 32 == 0), Is.True, "aligned tensor data");
        using var reimported = GgufImporter.Read(file);
        using var original = ShardedCheckpoint.Open(denseDir);
        Assert.That(reimported.Tensors.Select(t => t.Key), Is.EqualTo(original.Names));
        foreach (var (name, tensor) in reimported.Tensors)
        {
            using var expected = original.Read(name);
            Assert.That(tensor.bytes.SequenceEqual(expected.bytes), Is.True, name);
        }

        Assert.That(reimported.Config.RmsNormEps, Is.EqualTo(model.Config.RmsNormEps).Within(1e-12), "eps is stored as float32");
        Assert.That(LlamaConfigJson.ToJson(reimported.Config with { RmsNormEps = model.Config.RmsNormEps }),
            Is.EqualTo(LlamaConfigJson.ToJson(model.Config with { ExtraProperties = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>() })));
    }

    [Test]
    public void DenseExportCarriesTheSentencePieceTokenizer()
    {
        var path = work!.Combine("dense-tok.gguf");
        using var model = LlamaForCausalLM.FromDirectory(denseDir);
        GgufLlamaExporter.ExportDense(model.Config, StateDictLoader.NamedTensors(model), denseDir, path);
        var roundTrip = work.Combine("tok-roundtrip");
        Directory.CreateDirectory(roundTrip);
        File.WriteAllBytes(Path.Combine(roundTrip, "tokenizer.model"), SentencePieceModelWriter.FromGguf(GgufFile.Read(path)));
        var reference = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var fromGguf = TokenizerLoader.Load(roundTrip);
        const string text = "Once upon a time, there was a little girl named Lily. \"Wow!\" 123";
        Assert.That(fromGguf.Encode(text, addBos: true), Is.EqualTo(reference.Encode(text, addBos: true)));
    }

    [Test]
    public void LlamaCppLogitsOfDenseExportMatchOurs()
    {
        var path = work!.Combine("dense-llamacpp.gguf");
        using var model = LlamaForCausalLM.FromDirectory(denseDir);
        GgufLlamaExporter.ExportDense(model.Config, StateDictLoader.NamedTensors(model), denseDir, path);
        var ours = MoeTestModels.Logits(model, MoeTestModels.TestIds);
        var theirs = LlamaCppRunner.Logits(path, MoeTestModels.TestIds);
        var diff = LlamaCppRunner.MaxAbsDiff(ours, theirs);
        TestContext.Out.WriteLine($"dense stories260K, 32 tokens: max |ours - llama.cpp| = {diff:E3}");
        Assert.That(diff, Is.LessThan(1e-3));
    }

    [Test]
    public void LlamaCppLogitsOfMoeExportMatchOurs()
    {
        var path = work!.Combine("moe-llamacpp.gguf");
        using var dense = LlamaForCausalLM.FromDirectory(denseDir);
        using var moe = MoeTestModels.FromDense(dense, experts: 4, topK: 2, scale: 2.0);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        GgufLlamaExporter.ExportMoe(checkpoint, denseDir, path);

        var file = GgufFile.Read(path);
        Assert.That(file.Metadata["llama.expert_count"], Is.EqualTo(4u));
        Assert.That(file.Metadata["llama.expert_used_count"], Is.EqualTo(2u));
        Assert.That(file.Metadata["llama.feed_forward_length"], Is.EqualTo(43u));
        Assert.That(file.Tensors.Single(t => t.Name == "blk.0.ffn_gate_exps.weight").Dims, Is.EqualTo(new long[] { 64, 43, 4 }));
        Assert.That(file.Tensors.Single(t => t.Name == "blk.0.ffn_down_exps.weight").Dims, Is.EqualTo(new long[] { 43, 64, 4 }));
        Assert.That(file.Tensors.Single(t => t.Name == "blk.0.ffn_gate_inp.weight").Dims, Is.EqualTo(new long[] { 64, 4 }));

        var ours = MoeTestModels.Logits(moe, MoeTestModels.TestIds);
        var denseLogits = MoeTestModels.Logits(dense, MoeTestModels.TestIds);
        Assert.That(LlamaCppRunner.MaxAbsDiff(ours, denseLogits), Is.GreaterThan(1e-2), "top-2 of 4 differs from the dense model, so the check is not vacuous");
        var theirs = LlamaCppRunner.Logits(path, MoeTestModels.TestIds);
        var diff = LlamaCppRunner.MaxAbsDiff(ours, theirs);
        TestContext.Out.WriteLine($"stories260K MoE (4 experts, top-2, scale 2), 32 tokens: max |ours - llama.cpp| = {diff:E3}");
        Assert.That(diff, Is.LessThan(1e-3));
    }

    [Test]
    public void MoeWithResidualExpertIsRefusedForGguf()
    {
        using var dense = LlamaForCausalLM.FromDirectory(denseDir);
        using var moe = MoeTestModels.FromDense(dense, experts: 4, topK: 2, scale: 1.0, residual: 44);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var ex = Assert.Throws<LlamaMoeException>(() => GgufLlamaExporter.ExportMoe(checkpoint, denseDir, work!.Combine("residual.gguf")));
        Assert.That(ex!.Code, Is.EqualTo("LMOE1210"));
        Assert.That(File.Exists(work!.Combine("residual.gguf")), Is.False);
    }
}
