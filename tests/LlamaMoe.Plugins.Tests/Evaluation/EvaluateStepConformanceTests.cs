using System.Globalization;
using System.Reflection;
using System.Text.Json;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Evaluation;

[TestFixture]
public sealed class EvaluateStepConformanceTests : StepConformanceTests
{
    protected override string PluginName => "evaluate";

    protected override Assembly PluginAssembly => typeof(EvaluateStep).Assembly;

    protected override string ValidOptions =>
        $"{{ tasks: [ {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)}, first: 601, count: 5 }} ] }}";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ baseline: dense }", "LMOE0051"),
        new($"{{ tasks: [ {{ task: bleu, data: {Quote(SharedData.TinyStoriesValid)} }} ] }}", "LMOE0054"),
        new("{ tasks: [ { task: perplexity } ] }", "LMOE0051"),
        new($"{{ tasks: [ {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)} }}, {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)} }} ] }}", "LMOE0055"),
    ];

    protected override void CreateInputs(ConformanceSandbox sandbox) => AddStories260K(sandbox);

    [Test]
    public async Task StoriesPerplexityOfStories260KMatchesTheReference()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox);
        var (manifest, output) = await sandbox.RunAsync($"{{ tasks: [ {{ task: perplexity, name: all, data: {Quote(SharedData.TinyStoriesValid)} }} ] }}", seed: 0, CancellationToken.None);
        var meanNll = double.Parse(manifest.Outputs["dense-all-mean-nll"], CultureInfo.InvariantCulture);
        Assert.That(meanNll, Is.EqualTo(1.447262).Within(5e-4), "stories260K REFERENCE.md");
        Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("| all | mean_nll |"));
        Assert.That(File.Exists(Path.Combine(output, "models", "dense", "metrics.json")), Is.True);
    }

    [Test]
    public async Task ScoresEveryModelBesideTheBaselineAndReportsDenseExpertUsageAsRouterless()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox, "dense");
        AddStories260K(sandbox, "copy");
        var options = $"{{ baseline: dense, tasks: [ {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)}, first: 601, count: 3 }}, {{ task: expert-usage, data: {Quote(SharedData.TinyStoriesValid)}, count: 2 }} ] }}";
        var (manifest, output) = await sandbox.RunAsync(options, seed: 0, CancellationToken.None);
        Assert.That(manifest.Outputs["copy-perplexity-mean-nll"], Is.EqualTo(manifest.Outputs["dense-perplexity-mean-nll"]));
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.That(report, Does.Contain("| task | metric | dense | copy |"));
        Assert.That(report, Does.Contain("(+0.0000)"));
        Assert.That(report, Does.Contain("dense model: no routers"));
    }

    [TestCase(1)]
    [TestCase(4)]
    public async Task Gsm8kRunsWithAnyGenerationBatchSize(int batchSize)
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox);
        var options = $"{{ generation-batch-size: {batchSize}, tasks: [ {{ task: gsm8k, data: {Quote(SharedData.File("gsm8k", "test_shared.jsonl"))}, " +
            $"shots-data: {Quote(SharedData.File("gsm8k", "train.jsonl"))}, shots: 1, count: 6, max-new-tokens: 24 }} ] }}";
        var (manifest, output) = await sandbox.RunAsync(options, seed: 0, CancellationToken.None);
        Assert.That(manifest.Outputs["dense-gsm8k-exact-match"], Is.EqualTo("0"), "stories260K cannot do arithmetic");
        Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("| gsm8k | exact_match |"));
    }

    [Test]
    public async Task ANanPerplexityIsWrittenAsNullWithNonFiniteInEveryMetricsFileNotACrash()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox);
        sandbox.AddInput("broken", ArtifactKinds.DenseModel, directory =>
        {
            ModelImporter.Import(SharedData.Stories260KBin, directory, SharedData.Tok512Model);
            FillTensorWithNaN(Path.Combine(directory, "model.safetensors"), "model.norm.weight");
        });
        var options = $"{{ baseline: dense, tasks: [ {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)}, first: 601, count: 2 }} ] }}";
        var (manifest, output) = await sandbox.RunAsync(options, seed: 0, CancellationToken.None);

        Assert.That(manifest.Outputs.Keys, Does.Contain("dense-perplexity-perplexity"));
        Assert.That(manifest.Outputs.Keys, Does.Not.Contain("broken-perplexity-perplexity"), "a non-finite value is no output");
        using var top = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var row = top.RootElement.GetProperty("tasks").EnumerateArray().First(t => t.GetProperty("metric").GetString() == "perplexity");
        Assert.That(row.GetProperty("values").GetProperty("broken").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(row.GetProperty("values").GetProperty("dense").GetDouble(), Is.GreaterThan(1));
        Assert.That(row.GetProperty("non_finite").GetProperty("broken").GetString(), Is.EqualTo("NaN"));
        using var own = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "models", "broken", "metrics.json")));
        var score = own.RootElement.GetProperty("tasks").EnumerateArray().First(t => t.GetProperty("metric").GetString() == "perplexity");
        Assert.That(score.GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(score.GetProperty("non_finite").GetString(), Is.EqualTo("NaN"));
    }

    private static void FillTensorWithNaN(string safetensors, string name)
    {
        var bytes = File.ReadAllBytes(safetensors);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength));
        var offsets = header.RootElement.GetProperty(name).GetProperty("data_offsets");
        for (var i = 8 + headerLength + offsets[0].GetInt32(); i < 8 + headerLength + offsets[1].GetInt32(); i += 4)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i, 4), float.NaN);
        }

        File.WriteAllBytes(safetensors, bytes);
    }

    [Test]
    public void ABaselineThatIsNotNeededIsACodedError()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        AddStories260K(sandbox);
        var error = Assert.ThrowsAsync<LlamaMoeException>(async () =>
            await sandbox.RunAsync($"{{ baseline: stage1, tasks: [ {{ task: perplexity, data: {Quote(SharedData.TinyStoriesValid)}, count: 1 }} ] }}", seed: 0, CancellationToken.None));
        Assert.That(error!.Code, Is.EqualTo("LMOE3306"));
    }
}
