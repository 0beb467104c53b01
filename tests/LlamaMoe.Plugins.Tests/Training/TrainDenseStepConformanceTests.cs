using System.Reflection;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Training;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Training;

[TestFixture]
public sealed class TrainDenseStepConformanceTests : StepConformanceTests
{
    protected override string PluginName => "train-dense";

    protected override Assembly PluginAssembly => typeof(TrainDenseStep).Assembly;

    protected override string ValidOptions =>
        $"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)}, format: stories, first: 1, count: 8 }} ], seq-len: 64, batch-size: 2, max-steps: 3, checkpoint-every: 2 }}";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ max-steps: 3 }", "LMOE0051"),
        new($"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)} }} ] }}", "LMOE0055"),
        new($"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)} }} ], max-steps: 2, epochs: 1 }}", "LMOE0055"),
        new($"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)}, chat-template: chatml }} ], max-steps: 2 }}", "LMOE0055"),
        new($"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)} }} ], max-steps: 2, precision: float16 }}", "LMOE0054"),
        new($"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)} }} ], max-steps: 0 }}", "LMOE0053"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) => AddStories260K(sandbox);

    [Test]
    public async Task PublishesTheTrainedModelWithMetricsWithoutWallClockFieldsAndALossCurve()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        var input = AddStories260K(sandbox);
        var (manifest, output) = await sandbox.RunAsync(ValidOptions, seed: 2, CancellationToken.None);
        var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl"));
        Assert.That(lines, Has.Length.EqualTo(3));
        var first = JsonNode.Parse(lines[0])!.AsObject();
        Assert.That(first.ContainsKey("lm_loss") && !first.ContainsKey("tokens_per_second") && !first.ContainsKey("elapsed_seconds"), Is.True);
        Assert.That(new FileInfo(Path.Combine(output, "loss.png")).Length, Is.GreaterThan(0));
        Assert.That(File.Exists(Path.Combine(output, "tokenizer.model")), Is.True);
        Assert.That(manifest.Outputs["steps"], Is.EqualTo("3"));
        using var trained = LlamaForCausalLM.FromDirectory(output);
        using var original = LlamaForCausalLM.FromDirectory(input.Directory);
        Assert.That(trained.LmHeadWeight.allclose(original.LmHeadWeight), Is.False, "the weights changed");
    }

    [Test]
    public async Task ChatSourcesTrainOnlyOnAssistantTokens()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox);
        var gsm8k = SharedData.File("gsm8k", "train.jsonl");
        var (_, output) = await sandbox.RunAsync(
            $"{{ sources: [ {{ path: {Quote(gsm8k)}, format: gsm8k, count: 4, chat-template: plain }} ], seq-len: 512, pack: false, batch-size: 4, max-steps: 1 }}",
            seed: 1, CancellationToken.None);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "training.json")))!;
        var metrics = JsonNode.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[0])!;
        Assert.That((long)summary["target_tokens"]!, Is.GreaterThan(0).And.LessThan((long)metrics["tokens"]!), "questions are not targets");
    }
}
