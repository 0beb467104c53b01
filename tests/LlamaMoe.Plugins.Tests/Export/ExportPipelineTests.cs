using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Plugins.Tests.Construction;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Export;

public sealed class ExportPipelineTests
{
    private static readonly long[] Prompt = [1, 301, 427, 309, 426, 301, 427, 309, 394, 265];

    [Test]
    public async Task Stories260KMoeIsExportedInEveryFormatAndEachExportReproducesItsLogits()
    {
        using var temp = new TempDirectory();
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, $$"""
            name: export
            stages:
            {{PluginFixtures.SequentialStoriesMoeStages}}
              export:
                uses: export
                needs: [moe]
                with: { formats: [native, mixtral, llama-moe-v2, gguf] }
            """);

        var export = Path.Combine(artifacts, "export");
        var manifest = ArtifactManifest.Read(export);
        Assert.That(manifest.Kind, Is.EqualTo(ArtifactKinds.Files));
        Assert.That(manifest.Outputs["formats"], Is.EqualTo("native,mixtral,llama-moe-v2,gguf"));

        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(Prompt).unsqueeze(0); // (1, T)
        using var moe = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "moe"));
        var expected = moe.forward(ids); // (1, T, V)
        using var native = CausalLanguageModelLoader.Load(Path.Combine(export, "native"));
        using var mixtralCheckpoint = ModelExporter.ReadMoe(Path.Combine(export, "mixtral"));
        using var mixtral = mixtralCheckpoint.ToModel();
        using var v2Checkpoint = ModelExporter.ReadMoe(Path.Combine(export, "llama-moe-v2"));
        using var v2 = v2Checkpoint.ToModel();
        Assert.That(native.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(1e-6f), "native");
        Assert.That(mixtral.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(1e-4f), "mixtral (scale folded into w2)");
        Assert.That(v2.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(1e-4f), "llama-moe-v2");
        Assert.That(mixtralCheckpoint.Config.ExpertCount, Is.EqualTo(4));
        Assert.That(mixtralCheckpoint.Config.TopK, Is.EqualTo(2));

        var gguf = GgufFile.Read(Path.Combine(export, "model.gguf"));
        Assert.That(gguf.Metadata["llama.expert_count"], Is.EqualTo(4u));
        Assert.That(gguf.Metadata["llama.expert_used_count"], Is.EqualTo(2u));
        Assert.That(gguf.Metadata.ContainsKey("tokenizer.ggml.tokens"), Is.True, "tok512 is embedded");
        Assert.That(gguf.Tensors.Select(t => t.Name), Does.Contain("blk.4.ffn_down_exps.weight"));
    }

    [Test]
    public async Task AResidualMoeFailsMixtralAtItsFormatsEntryOrIsSkippedWhenAsked()
    {
        using var temp = new TempDirectory();
        ExportFixtures.WriteStoriesMoe(temp.Combine("dense"), temp.Combine("residual"), residual: true);
        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await RunAsync(temp, """
            name: strict
            stages:
              export:
                uses: export
                with:
                  model: residual
                  formats:
                    - native
                    - mixtral
            """));
        Assert.That(error!.Code, Is.EqualTo("LMOE1210"));
        Assert.That(error.FilePath, Is.EqualTo(temp.Combine("pipeline.yaml")));
        Assert.That((error.Line, error.Column, error.Key), Is.EqualTo((9, 11, "formats[1]")), "placed at '- mixtral'");
        Assert.That(error.Message, Does.Contain("residual"));
        Assert.That(error.Advice, Does.Contain("skip-unsupported"));

        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: lenient
            stages:
              export:
                uses: export
                with: { model: residual, skip-unsupported: true, formats: [mixtral, native, llama-moe-v2, gguf] }
            """);
        var export = Path.Combine(artifacts, "export");
        var manifest = ArtifactManifest.Read(export);
        Assert.That(manifest.Outputs["formats"], Is.EqualTo("native,llama-moe-v2"));
        Assert.That(manifest.Outputs["skipped"], Is.EqualTo("mixtral,gguf"));
        Assert.That(Directory.Exists(Path.Combine(export, "mixtral")), Is.False);
        Assert.That(File.Exists(Path.Combine(export, "model.gguf")), Is.False);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var residual = CausalLanguageModelLoader.Load(temp.Combine("residual"));
        using var native = CausalLanguageModelLoader.Load(Path.Combine(export, "native"));
        var ids = tensor(Prompt).unsqueeze(0); // (1, T)
        Assert.That(native.forward(ids).sub(residual.forward(ids)).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public async Task ADenseModelExportsToGgufAndFailsTheMoeFormatsAtTheOptions()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Combine("dense"));
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: dense
            stages:
              export:
                uses: export
                with: { model: dense, formats: [gguf], gguf-type: f16 }
            """);
        var gguf = GgufFile.Read(Path.Combine(artifacts, "export", "model.gguf"));
        Assert.That(gguf.Metadata.ContainsKey("llama.expert_count"), Is.False);
        Assert.That(gguf.Tensors.Single(t => t.Name == "blk.0.ffn_up.weight").Type, Is.EqualTo((uint)GgufTensorType.F16));

        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await RunAsync(temp, """
            name: dense-default
            stages:
              export:
                uses: export
                with: { model: dense }
            """));
        Assert.That(error!.Code, Is.EqualTo("LMOE1230"), "the default formats start with native, which a dense model does not fit");
        Assert.That((error.FilePath, error.Line), Is.EqualTo((temp.Combine("pipeline.yaml"), 5)), "formats is defaulted: placed at the stage's with:");
    }

    private static async Task RunAsync(TempDirectory temp, string yaml)
    {
        File.WriteAllText(temp.Combine("pipeline.yaml"), yaml);
        var pipeline = PipelineLoader.Load(temp.Combine("pipeline.yaml"), new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        await new PipelineRunner(pipeline, services).RunAsync();
    }
}
