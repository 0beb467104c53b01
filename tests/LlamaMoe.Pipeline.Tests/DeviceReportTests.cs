using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Store;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class DeviceReportTests
{
    private const string Yaml = """
        name: t
        stages:
          tensors:
            uses: test/device
            with: { device: "cpu (2 threads), float32" }
          text:
            uses: test/write
            with: { text: abc }
        """;

    private PipelineFixture fixture = null!;

    [SetUp]
    public void SetUp() => fixture = new PipelineFixture(Yaml);

    [TearDown]
    public void TearDown() => fixture.Dispose();

    [Test]
    public async Task TheReportedDeviceIsPrintedOnceAndKeptInTheOutcomeManifestAndLockFile()
    {
        var observer = new RecordingObserver();
        var outcomes = await RunAsync(observer);

        Assert.That(observer.Logs, Is.EqualTo(new[] { "tensors: device: cpu (2 threads), float32" }));
        Assert.That(outcomes["tensors"].Device, Is.EqualTo("cpu (2 threads), float32"));
        Assert.That(ArtifactManifest.Read(Path.Combine(fixture.Root, "artifacts", "t", "tensors")).Device, Is.EqualTo("cpu (2 threads), float32"));
        Assert.That(LockFile.Read(fixture.File("pipeline.lock.json")).Stages["tensors"].Device, Is.EqualTo("cpu (2 threads), float32"));
    }

    [Test]
    public async Task AStepThatReportsNoDeviceHasNoDeviceField()
    {
        var outcomes = await RunAsync(new RecordingObserver());

        Assert.That(outcomes["text"].Device, Is.Null);
        Assert.That(File.ReadAllText(Path.Combine(fixture.Root, "artifacts", "t", "text", ArtifactManifest.FileName)), Does.Not.Contain("\"device\""));
    }

    [Test]
    public async Task AnUpToDateStageStillSaysWhatItRanOn()
    {
        await RunAsync(new RecordingObserver());
        var second = await RunAsync(new RecordingObserver());

        Assert.That(second["tensors"].Status, Is.EqualTo(StageStatus.UpToDate));
        Assert.That(second["tensors"].Device, Is.EqualTo("cpu (2 threads), float32"));
    }

    [Test]
    public async Task TheDeviceIsNotPartOfTheContentDigest()
    {
        var first = await RunAsync(new RecordingObserver());
        fixture.Write(Yaml.Replace("cpu (2 threads), float32", "cuda:0 NVIDIA H200, bfloat16", StringComparison.Ordinal));
        var second = await RunAsync(new RecordingObserver());

        Assert.That(second["tensors"].Status, Is.EqualTo(StageStatus.Ran));
        Assert.That(second["tensors"].Device, Is.EqualTo("cuda:0 NVIDIA H200, bfloat16"));
        Assert.That(second["tensors"].OutputDigest, Is.EqualTo(first["tensors"].OutputDigest));
        Assert.That(second["tensors"].OutputChanged, Is.False);
    }

    private async Task<Dictionary<string, StageOutcome>> RunAsync(IPipelineRunObserver observer)
    {
        var pipeline = fixture.Load();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, observer).BuildServiceProvider();
        var outcomes = await new PipelineRunner(pipeline, services).RunAsync();
        return outcomes.ToDictionary(o => o.StageId);
    }

    private sealed class RecordingObserver : IPipelineRunObserver
    {
        public List<string> Logs { get; } = [];

        public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
        {
        }

        public void StageProgress(string stageId, StepProgressUpdate update)
        {
        }

        public void StageLog(string stageId, bool warning, string message) => Logs.Add($"{stageId}: {message}");

        public void StageFinished(StageOutcome outcome)
        {
        }
    }
}
