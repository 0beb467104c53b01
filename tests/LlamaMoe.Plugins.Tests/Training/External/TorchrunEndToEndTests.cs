using System.Text.Json.Nodes;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// <c>executor: { kind: torchrun }</c> end to end: the pipeline writes the bundle, runs launch/local.sh as its own process
/// group with the fake trainer (python/llamamoe_hf/fake_train.py, no torch), follows it and imports final/.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("External")]
public sealed class TorchrunEndToEndTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(120);

    [Test]
    public async Task ATorchrunStagePublishesTheImportedModelWithItsProgressAndIsUpToDateOnTheSecondRun()
    {
        using var fixture = new ExternalPipelineFixture();
        var yaml = fixture.Pipeline("kind: torchrun");

        var first = await fixture.RunAsync(yaml);

        Assert.That(first.Single(o => o.StageId == "tune").Status, Is.EqualTo(StageStatus.Ran));
        var manifest = ArtifactManifest.Read(fixture.Artifact);
        Assert.That(manifest.Kind, Is.EqualTo(ArtifactKinds.MoeModel));
        Assert.That(manifest.Outputs["steps"], Is.EqualTo("4"));
        var metrics = File.ReadAllLines(Path.Combine(fixture.Artifact, "metrics.jsonl"));
        Assert.That(metrics.Select(l => (int)JsonNode.Parse(l)!["step"]!), Is.EqualTo(new[] { 1, 2, 3, 4 }), "every progress record reaches metrics.jsonl");
        Assert.That(File.Exists(Path.Combine(fixture.Artifact, "external.json")), Is.True);
        Assert.That(fixture.Events().Count(e => (string?)e["event"] == "start"), Is.EqualTo(1));
        Assert.That(File.ReadAllText(Path.Combine(fixture.RunDirectory, "trainer.log")), Does.Contain("LMOE_PROGRESS"), "the trainer's output goes to trainer.log");

        var second = await fixture.RunAsync(yaml);

        Assert.That(second.Select(o => o.Status), Is.All.EqualTo(StageStatus.UpToDate));
        Assert.That(fixture.Events().Count(e => (string?)e["event"] == "start"), Is.EqualTo(1), "nothing was launched again");
    }

    [Test]
    public async Task CancellingTheRunStopsTheTrainersProcessGroup()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_STEP_SECONDS", "0.5");
        using var cancel = new CancellationTokenSource();
        var run = fixture.RunAsync(fixture.Pipeline("kind: torchrun", maxSteps: 400), cancel.Token);

        await fixture.WaitForStepAsync(1, StepTimeout);
        var pid = fixture.TrainerPid();
        Assert.That(RunRecord.StartTicksOf(pid), Is.Not.Null, "the trainer runs");
        await cancel.CancelAsync();

        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(RunRecord.StartTicksOf(pid), Is.Null, "no orphan trainer is left");
        Assert.That(fixture.Events().Select(e => (string?)e["event"]), Does.Contain("preempted"), "SIGTERM made it checkpoint and stop");
    }

    [Test]
    public async Task ARerunAfterDetachingReattachesToTheRunningTrainerInsteadOfStartingASecondOne()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_STEP_SECONDS", "0.4");
        var yaml = fixture.Pipeline("kind: torchrun, on-cancel: detach", maxSteps: 12);
        int pid;
        using (var cancel = new CancellationTokenSource())
        {
            var run = fixture.RunAsync(yaml, cancel.Token);
            await fixture.WaitForStepAsync(1, StepTimeout);
            pid = fixture.TrainerPid();
            await cancel.CancelAsync();
            Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        }

        Assert.That(RunRecord.StartTicksOf(pid), Is.Not.Null, "detaching leaves the trainer running (as our own death would)");

        var outcomes = await fixture.RunAsync(yaml);

        Assert.That(outcomes.Single(o => o.StageId == "tune").Status, Is.EqualTo(StageStatus.Ran));
        Assert.That(fixture.Logs, Has.Some.Contain($"re-attaching to lmoe-").And.Contain($"(pid {pid})"));
        var events = fixture.Events().Select(e => (string?)e["event"]).ToList();
        Assert.That(events.Count(e => e == "start"), Is.EqualTo(1), "no second job was started");
        Assert.That(events, Does.Not.Contain("resume"));
        Assert.That(ArtifactManifest.Read(fixture.Artifact).Outputs["steps"], Is.EqualTo("12"));
    }

    [Test]
    public async Task APreemptedTrainerIsRelaunchedAndResumesFromItsNewestCompleteCheckpoint()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_PREEMPT_AT_STEP", "3");

        var outcomes = await fixture.RunAsync(fixture.Pipeline("kind: torchrun", maxSteps: 6));

        Assert.That(outcomes.Single(o => o.StageId == "tune").Status, Is.EqualTo(StageStatus.Ran));
        var events = fixture.Events();
        Assert.That(events.Select(e => (string?)e["event"]), Is.EqualTo(new[] { "start", "checkpoint", "checkpoint", "preempted", "start", "resume", "checkpoint", "done" }));
        Assert.That((int?)events.Single(e => (string?)e["event"] == "resume")["from_step"], Is.EqualTo(3));
        Assert.That(fixture.Logs, Has.Some.Contain("relaunching"));
        var metrics = File.ReadAllLines(Path.Combine(fixture.Artifact, "metrics.jsonl")).Select(l => (int)JsonNode.Parse(l)!["step"]!);
        Assert.That(metrics, Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }));
    }

    [Test]
    public void ATrainerThatKeepsCrashingIsRelaunchedUpToRetriesThenStopsWithLmoe3407()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_EXIT_AT_STEP", "3"); // exit 137 without an event at step 3, after the checkpoint at step 2: every relaunch dies there again

        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await fixture.RunAsync(fixture.Pipeline("kind: torchrun, retries: 1")));

        Assert.That(error!.Code, Is.EqualTo(ExternalTrainingErrorCodes.RetriesExhausted), error.Message);
        Assert.That(fixture.Events().Count(e => (string?)e["event"] == "resume"), Is.EqualTo(1), "one relaunch, resumed from step 2");
        Assert.That(fixture.Logs, Has.Some.Contain("relaunching"));
    }

    [Test]
    public async Task ANaNLossStopsTheStageWithTheTrainersCodeAndNamesTheTrainerLog()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_NAN_AT_STEP", "2");

        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await fixture.RunAsync(fixture.Pipeline("kind: torchrun")));

        Assert.That(error!.Code, Is.EqualTo("LMOE3422"), error.Message);
        var log = Path.Combine(fixture.RunDirectory, "trainer.log");
        Assert.That(error.FilePath, Is.EqualTo(log));
        Assert.That(error.Message, Does.Contain(log));
        Assert.That(File.ReadAllText(log), Does.Contain("LMOE3422"), "the trainer's own report is in the log");
        Assert.That(Directory.Exists(fixture.Artifact), Is.False, "nothing is published");
    }

    [Test]
    public async Task APreflightFailureIsSurfacedWithItsCode()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("LLAMAMOE_FAKE_PREFLIGHT_FAIL", "1");

        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await fixture.RunAsync(fixture.Pipeline("kind: torchrun")));

        Assert.That(error!.Code, Is.EqualTo("LMOE3410"), error.Message);
        Assert.That(error.Message, Does.Contain("LLAMAMOE_FAKE_PREFLIGHT_FAIL").Or.Contain("preflight"));
    }
}
