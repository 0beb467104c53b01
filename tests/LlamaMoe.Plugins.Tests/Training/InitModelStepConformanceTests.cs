using System.Reflection;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Training;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Training;

[TestFixture]
public sealed class InitModelStepConformanceTests : StepConformanceTests
{
    private static readonly Lazy<string> TextFile = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"llamamoe-init-text-{Environment.ProcessId}.txt");
        var sentences = new[] { "Tom has a red ball.", "Anna likes the big tree.", "The cat sat on the mat.", "Sam and Lily play in the park." };
        File.WriteAllText(path, string.Join("\n<|endoftext|>\n", Enumerable.Range(0, 40).Select(i => sentences[i % 4] + " " + sentences[(i + 1) % 4])));
        return path;
    });

    protected override string PluginName => "model/init";

    protected override Assembly PluginAssembly => typeof(InitModelStep).Assembly;

    protected override string ValidOptions =>
        $"{{ data: {Quote(TextFile.Value)}, format: stories, vocab-size: 64, hidden: 16, layers: 2, heads: 2, intermediate: 32, seq-len: 32 }}";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ hidden: 16 }", "LMOE0055"),
        new($"{{ data: {Quote(TextFile.Value)}, hidden: 18, heads: 4 }}", "LMOE0055"),
        new($"{{ data: {Quote(TextFile.Value)}, heads: 4, kv-heads: 3 }}", "LMOE0055"),
        new($"{{ data: {Quote(TextFile.Value)}, layers: 0 }}", "LMOE0053"),
        new($"{{ data: {Quote(TextFile.Value)}, format: poems }}", "LMOE0054"),
    ];

    [Test]
    public async Task CreatesALoadableModelWhoseVocabularyIsTheTrainedTokenizers()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        var (manifest, output) = await sandbox.RunAsync(ValidOptions, seed: 4, CancellationToken.None);
        var tokenizer = TokenizerLoader.Load(output);
        using var model = LlamaForCausalLM.FromDirectory(output);
        Assert.That(model.Config.VocabSize, Is.EqualTo(tokenizer.VocabSize));
        Assert.That(model.Config.NumHiddenLayers, Is.EqualTo(2));
        Assert.That(manifest.Outputs["vocab-size"], Is.EqualTo(tokenizer.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(tokenizer.Decode(tokenizer.Encode("Tom has a red ball.")), Is.EqualTo("Tom has a red ball."));
    }
}
