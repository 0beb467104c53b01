using System.Reflection;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Export;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Export;

[TestFixture]
public sealed class ExportStepConformanceTests : StepConformanceTests
{
    protected override string PluginName => "export";

    protected override Assembly PluginAssembly => typeof(ExportStep).Assembly;

    protected override string ValidOptions => "{ formats: [native, mixtral, llama-moe-v2, gguf] }";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ formats: [onnx] }", "LMOE0054"),
        new("{ formats: [] }", "LMOE0055"),
        new("{ formats: [gguf, native, gguf] }", "LMOE0055"),
        new("{ gguf-type: q4 }", "LMOE0054"),
        new("{ skip-unsupported: maybe }", "LMOE0052"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) =>
        sandbox.AddInput("moe", ArtifactKinds.MoeModel, directory => ExportFixtures.WriteStoriesMoe(Path.Combine(sandbox.Root, "dense-source"), directory));

    [Test]
    public async Task WritesEachFormatIntoItsOwnEntryAndNamesItInTheOutputs()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        CreateInputs(sandbox);
        var (manifest, output) = await sandbox.RunAsync("{ formats: [gguf, mixtral], gguf-type: bf16 }", seed: 0, CancellationToken.None);
        Assert.That(manifest.Outputs["formats"], Is.EqualTo("gguf,mixtral"));
        Assert.That(manifest.Outputs["skipped"], Is.Empty);
        Assert.That(manifest.Outputs["gguf"], Is.EqualTo("model.gguf"));
        Assert.That(manifest.Outputs["mixtral"], Is.EqualTo("mixtral"));
        Assert.That(File.Exists(Path.Combine(output, "model.gguf")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(output, "mixtral", "config.json")), Does.Contain("\"MixtralForCausalLM\""));
        Assert.That(File.Exists(Path.Combine(output, "mixtral", "tokenizer.model")), Is.True, "the tokenizer travels with the export");
        Assert.That(Directory.Exists(Path.Combine(output, "native")), Is.False, "only the listed formats are written");
    }

    [Test]
    public void AModelStageAndAModelFolderTogetherAreACodedError()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        CreateInputs(sandbox);
        var folder = sandbox.Inputs[0].Directory;
        var error = Assert.ThrowsAsync<LlamaMoeException>(async () =>
            await sandbox.RunAsync($"{{ model: {PluginFixtures.Quote(folder)} }}", seed: 0, CancellationToken.None));
        Assert.That(error!.Code, Is.EqualTo("LMOE3301"));
        Assert.That(error.Key, Is.EqualTo("model"));
        Assert.That(error.Line, Is.EqualTo(6), "placed at the model: option");
    }
}
