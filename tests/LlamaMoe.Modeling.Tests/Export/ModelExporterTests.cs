using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

public sealed class ModelExporterTests
{
    [Test]
    public void ExportsDenseToGgufAndNativeMoeToEveryFittingFormat()
    {
        TorchRuntime.EnsureLoaded();
        using var work = new TempDirectory("model-exporter");
        var denseDir = MoeTestModels.ImportStories(work.Combine("dense"));
        ModelExporter.Export(denseDir, "gguf", work.Combine("dense.gguf"));
        using (var imported = GgufImporter.Read(GgufFile.Read(work.Combine("dense.gguf"))))
        {
            Assert.That(imported.Config.NumHiddenLayers, Is.EqualTo(5));
        }

        using var dense = LlamaForCausalLM.FromDirectory(denseDir);
        using var moe = MoeTestModels.FromDense(dense, 4, 2, 2.0);
        using (var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe)))
        {
            NativeMoeFormat.Write(checkpoint, work.Combine("native"), denseDir);
        }

        ModelExporter.Export(work.Combine("native"), "mixtral", work.Combine("mixtral"));
        ModelExporter.Export(work.Combine("mixtral"), "llama-moe-v2", work.Combine("v2"));
        ModelExporter.Export(work.Combine("v2"), "gguf", work.Combine("moe.gguf"));
        Assert.That(File.Exists(Path.Combine(work.Combine("mixtral"), "tokenizer.model")), Is.True, "tokenizer carried along");
        using var fromV2 = ModelExporter.ReadMoe(work.Combine("v2"));
        using var model = fromV2.ToModel();
        Assert.That(LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(moe, MoeTestModels.TestIds), MoeTestModels.Logits(model, MoeTestModels.TestIds)), Is.LessThan(1e-5));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ModelExporter.Export(denseDir, "mixtral", work.Combine("x")))!.Code, Is.EqualTo("LMOE1230"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ModelExporter.Export(denseDir, "onnx", work.Combine("y")))!.Code, Is.EqualTo("LMOE1230"));
    }
}
