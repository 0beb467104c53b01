using System.Text.Json;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>
/// Writes case folders for <c>scripts/compare_with_transformers.py</c> (model/, input_ids.json, logits.f32), for a
/// machine with PyTorch and transformers: the dense stories260K HF directory and the Mixtral export of a stories260K
/// MoE (4 experts, top-2, scale 2). Explicit: run with LLAMAMOE_CASES_OUT set.
/// </summary>
[Explicit("writes cross-check cases for a machine with transformers; set LLAMAMOE_CASES_OUT")]
public sealed class TransformersCaseWriter
{
    [Test]
    public void WritesDenseAndMixtralCasesForTheTransformersCrossCheck()
    {
        var output = Environment.GetEnvironmentVariable("LLAMAMOE_CASES_OUT");
        if (string.IsNullOrEmpty(output))
        {
            Assert.Fail("set LLAMAMOE_CASES_OUT to the folder that receives the cases");
            return;
        }

        using var temp = new TempDirectory();
        var denseDir = MoeTestModels.ImportStories(temp.Combine("dense"));
        using var dense = LlamaForCausalLM.FromDirectory(denseDir);
        dense.eval();
        WriteCase(Path.Combine(output, "stories260k-dense"), denseDir, MoeTestModels.Logits(dense, MoeTestModels.TestIds));

        using var moe = MoeTestModels.FromDense(dense, experts: 4, topK: 2, scale: 2.0);
        var mixtralDir = temp.Combine("mixtral");
        using (var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe)))
        {
            MixtralFormat.Write(checkpoint, mixtralDir, denseDir);
        }

        WriteCase(Path.Combine(output, "stories260k-moe-mixtral"), mixtralDir, MoeTestModels.Logits(moe, MoeTestModels.TestIds));
        Assert.That(File.Exists(Path.Combine(output, "stories260k-moe-mixtral", "model", "config.json")));
    }

    /// <summary>
    /// A case for a pipeline's <c>export</c> stage output (LLAMAMOE_CASES_EXPORT: the folder holding native/ and
    /// mixtral/): our logits come from loading the native directory with our own model code, the transformers side loads
    /// the Mixtral-compatible directory, so the check covers the export of a trained model end to end.
    /// </summary>
    [Test]
    public void WritesACaseForAPipelineExport()
    {
        var output = Environment.GetEnvironmentVariable("LLAMAMOE_CASES_OUT");
        var export = Environment.GetEnvironmentVariable("LLAMAMOE_CASES_EXPORT");
        if (string.IsNullOrEmpty(output) || string.IsNullOrEmpty(export))
        {
            Assert.Fail("set LLAMAMOE_CASES_OUT and LLAMAMOE_CASES_EXPORT (an export stage's output folder)");
            return;
        }

        using var model = LlamaMoe.Modeling.Loading.CausalLanguageModelLoader.Load(Path.Combine(export, "native"));
        model.eval();
        var ids = MoeTestModels.TestIdsFor(model.Config.VocabSize);
        var caseDir = Path.Combine(output, "pipeline-export-mixtral");
        WriteCase(caseDir, Path.Combine(export, "mixtral"), MoeTestModels.Logits(model, ids), ids);
        Assert.That(File.Exists(Path.Combine(caseDir, "model", "config.json")));
    }

    private static void WriteCase(string caseDir, string modelDir, float[,] logits, IReadOnlyList<int>? ids = null)
    {
        var model = Path.Combine(caseDir, "model");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(modelDir))
        {
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)), overwrite: true);
        }

        File.WriteAllText(Path.Combine(caseDir, "input_ids.json"), JsonSerializer.Serialize(ids ?? MoeTestModels.TestIds));
        var bytes = new byte[logits.Length * sizeof(float)];
        Buffer.BlockCopy(logits, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(Path.Combine(caseDir, "logits.f32"), bytes);
    }
}
