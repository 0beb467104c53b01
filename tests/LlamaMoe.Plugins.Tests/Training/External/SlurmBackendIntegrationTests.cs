using System.Collections.Concurrent;
using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// The Slurm backend against a real single-node Slurm (scripts/slurm-test-cluster.sh) running a fake trainer job that
/// speaks the output contract. Ignored, with the reason, where Slurm cannot start.
/// </summary>
[TestFixture]
[Category("Slurm")]
[NonParallelizable]
public sealed class SlurmBackendIntegrationTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(120);
    private string _conf = "";
    private TempDirectory _temp = null!;

    [OneTimeSetUp]
    public void StartCluster() => _conf = SlurmTestCluster.RequireConf();

    [OneTimeTearDown]
    public void StopCluster() => SlurmTestCluster.StopIfStartedHere();

    [SetUp]
    public void CreateTemp() => _temp = new TempDirectory("lmoe-slurm-test");

    [TearDown]
    public void DeleteTemp() => _temp.Dispose();

    [Test]
    public async Task SubmittedJobRunsToDoneAndStreamsEveryProgressStepInOrder()
    {
        var (backend, job) = Prepare(("FAKE_MAX_STEPS", "6"), ("FAKE_STEP_SECONDS", "0.1"));
        var updates = new CollectingProgress();
        var handle = await backend.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);
        var outcome = await WaitWithTimeout(backend, handle, updates);

        Assert.That(outcome.FinalStep, Is.EqualTo(6));
        Assert.That(outcome.FinalState, Is.EqualTo(ExternalJobState.Completed));
        Assert.That(outcome.Handle.JobId, Is.EqualTo(handle.JobId));
        Assert.That(updates.Steps, Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(updates.Progress.Last().MaxSteps, Is.EqualTo(6));
        Assert.That(updates.Progress.Last().Loss, Is.EqualTo(5.0 / 6).Within(1e-4));
        Assert.That(updates.EventNames, Is.EqualTo(new[] { "start", "checkpoint", "checkpoint", "checkpoint", "done" }));
        Assert.That(File.Exists(handle.LogPath), Is.True, "the job log is where --output put it");
    }

    [Test]
    public async Task CancelledJobEndsCancelledAndWaitingOnItRaisesLmoe3455()
    {
        var (backend, job) = Prepare(("FAKE_MAX_STEPS", "1000"), ("FAKE_STEP_SECONDS", "0.2"));
        var handle = await backend.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);
        await WaitForStep(job.RunDir, 1);

        await backend.CancelAsync(handle, default);
        var state = await WaitForState(backend, handle, s => s.IsTerminal());

        Assert.That(state, Is.EqualTo(ExternalJobState.Cancelled));
        var error = Assert.ThrowsAsync<LlamaMoeException>(() => WaitWithTimeout(backend, handle, null));
        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.JobCancelled));
        Assert.That(File.Exists(Path.Combine(job.RunDir, "DONE.json")), Is.False);
    }

    [TestCase("1", TestName = "PreemptedJobThatRequeuesItselfResumesFromItsNewestCheckpointToDone")]
    [TestCase("0", TestName = "PreemptedJobThatOnlyExitsIsRequeuedByTheBackendAndResumesToDone")]
    public async Task PreemptedJobResumesToDone(string selfRequeue)
    {
        var (backend, job) = Prepare(("FAKE_MAX_STEPS", "10"), ("FAKE_STEP_SECONDS", "0.25"), ("FAKE_SAVE_STEPS", "2"), ("FAKE_SELF_REQUEUE", selfRequeue));
        var updates = new CollectingProgress();
        var handle = await backend.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);
        await WaitForStep(job.RunDir, 3);

        await backend.SignalPreemptAsync(handle, default);
        var outcome = await WaitWithTimeout(backend, handle, updates);

        Assert.That(outcome.FinalStep, Is.EqualTo(10));
        Assert.That(outcome.Preemptions, Is.EqualTo(1));
        Assert.That(outcome.Restarts, Is.GreaterThanOrEqualTo(1));
        Assert.That(outcome.Handle.JobId, Is.EqualTo(handle.JobId), "requeued, not resubmitted");
        var preempted = updates.Events.Single(e => e.Event == "preempted");
        var resume = updates.Events.Single(e => e.Event == "resume");
        Assert.That(resume.FromStep, Is.EqualTo(preempted.Step), "resumes from the checkpoint written at preemption");
        Assert.That(updates.Steps, Is.EqualTo(Enumerable.Range(1, 10).Select(i => (long)i)), "no step lost or repeated");
        Assert.That(updates.EventNames.Last(), Is.EqualTo("done"));
    }

    [Test]
    public async Task JobWhoseHeartbeatStopsIsRequeuedAndResumesToDone()
    {
        var (_, job) = Prepare();
        var backend = new SlurmLaunchBackend(Options(("FAKE_MAX_STEPS", "8"), ("FAKE_STEP_SECONDS", "0.2"), ("FAKE_HANG_AT_STEP", "3"))
            with { StallTimeout = TimeSpan.FromSeconds(2) });
        var updates = new CollectingProgress();
        var handle = await backend.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);

        var outcome = await WaitWithTimeout(backend, handle, updates);

        Assert.That(outcome.FinalStep, Is.EqualTo(8));
        Assert.That(outcome.Restarts, Is.EqualTo(1));
        Assert.That(outcome.Handle.JobId, Is.EqualTo(handle.JobId));
        var names = updates.EventNames.ToList();
        Assert.That(names.IndexOf("stalled"), Is.GreaterThanOrEqualTo(0).And.LessThan(names.IndexOf("resume")));
        Assert.That(updates.EventNames.Last(), Is.EqualTo("done"));
    }

    [Test]
    public async Task NewBackendInstanceReattachesToTheRunningJobInsteadOfSubmittingAgain()
    {
        var (first, job) = Prepare(("FAKE_MAX_STEPS", "12"), ("FAKE_STEP_SECONDS", "0.25"));
        var handle = await first.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);
        using (var dies = new CancellationTokenSource())
        {
            var updates = new CollectingProgress(u => { if (u.Progress is { Step: >= 2 }) dies.Cancel(); });
            Assert.CatchAsync<OperationCanceledException>(() => first.WaitAsync(handle, updates, dies.Token));
        }

        var (second, _) = Prepare();
        var byName = await second.TryAttachAsync(null, job.Name, job.RunDir, default);
        var byId = await second.TryAttachAsync(handle.JobId, job.Name, job.RunDir, default);
        Assert.That(byName?.JobId, Is.EqualTo(handle.JobId));
        Assert.That(byId?.JobId, Is.EqualTo(handle.JobId));
        Assert.That(byName!.LogPath, Is.EqualTo(handle.LogPath), "the log is found from scontrol's StdOut");

        var outcome = await WaitWithTimeout(second, byName, null);
        Assert.That(outcome.FinalStep, Is.EqualTo(12));
        var listed = await new SlurmCommandRunner(Options()).RunCheckedAsync(
            "squeue", ["--noheader", "--states=all", $"--name={job.Name}", "--format=%i"], default);
        Assert.That(listed.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { handle.JobId }), "exactly one job was submitted");
        Assert.That(await second.TryAttachAsync(null, job.Name, job.RunDir, default), Is.Not.Null, "a finished job with DONE.json is still attachable");
    }

    [Test]
    public async Task TrainerErrorEventCodeIsRaisedWhenTheJobFails()
    {
        var (backend, job) = Prepare(("FAKE_FAIL_CODE", "LMOE3422"));
        var handle = await backend.SubmitAsync(job.Bundle, job.OutputUri, job.RunDir, job.Name, default);

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => WaitWithTimeout(backend, handle, null));

        Assert.That(error!.Code, Is.EqualTo("LMOE3422"));
        Assert.That(error.Message, Does.Contain("fake failure LMOE3422"));
        Assert.That((await backend.GetStatusAsync(handle, default)).State, Is.EqualTo(ExternalJobState.Failed));
        Assert.That(await backend.TryAttachAsync(handle.JobId, job.Name, job.RunDir, default), Is.Null, "a failed job is resubmitted, not attached");
    }

    private (SlurmLaunchBackend Backend, FakeJob Job) Prepare(params (string Name, string Value)[] environment)
    {
        var bundle = _temp.Combine("bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "launch"));
        File.Copy(SlurmTestCluster.FakeTrainerScript, Path.Combine(bundle, "launch", "slurm.sbatch"), overwrite: true);
        var key = Guid.NewGuid().ToString("N")[..12];
        var output = _temp.Combine("out");
        var job = new FakeJob(bundle, output, Path.Combine(output, $"run-{key}"), SlurmLaunchBackend.JobName(key, 1));
        return (new SlurmLaunchBackend(Options(environment)), job);
    }

    private SlurmBackendOptions Options(params (string Name, string Value)[] environment) => new()
    {
        Environment = new Dictionary<string, string>(environment.Select(e => KeyValuePair.Create(e.Name, e.Value))) { ["SLURM_CONF"] = _conf },
        PollInterval = TimeSpan.FromMilliseconds(300),
        CommandTimeout = TimeSpan.FromSeconds(30),
    };

    private static async Task<ExternalJobOutcome> WaitWithTimeout(SlurmLaunchBackend backend, ExternalJobHandle handle, IProgress<ExternalJobUpdate>? progress)
    {
        using var timeout = new CancellationTokenSource(JobTimeout);
        return await backend.WaitAsync(handle, progress, timeout.Token);
    }

    private static async Task WaitForStep(string runDir, int step)
    {
        var progress = Path.Combine(runDir, "progress.jsonl");
        var deadline = DateTime.UtcNow + JobTimeout;
        while (!(File.Exists(progress) && File.ReadAllLines(progress).Length >= step))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the job did not reach step {step}");
            await Task.Delay(100);
        }
    }

    private static async Task<ExternalJobState> WaitForState(SlurmLaunchBackend backend, ExternalJobHandle handle, Func<ExternalJobState, bool> done)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        while (true)
        {
            var state = (await backend.GetStatusAsync(handle, default)).State;
            if (done(state))
            {
                return state;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the job stayed {state}");
            await Task.Delay(200);
        }
    }

    private sealed record FakeJob(string Bundle, string OutputUri, string RunDir, string Name);
}

/// <summary>Collects backend updates synchronously, in the order they are reported.</summary>
internal sealed class CollectingProgress(Action<ExternalJobUpdate>? onReport = null) : IProgress<ExternalJobUpdate>
{
    private readonly ConcurrentQueue<ExternalJobUpdate> _updates = new();

    public IReadOnlyList<ExternalTrainingProgress> Progress => _updates.Where(u => u.Progress is not null).Select(u => u.Progress!).ToList();

    public IReadOnlyList<long> Steps => Progress.Select(p => p.Step).ToList();

    public IReadOnlyList<ExternalTrainingEvent> Events => _updates.Where(u => u.Event is not null).Select(u => u.Event!).ToList();

    public IReadOnlyList<string> EventNames => Events.Select(e => e.Event).ToList();

    public IReadOnlyList<ExternalJobStatus> States => _updates.Where(u => u.Status is not null).Select(u => u.Status!).ToList();

    public void Report(ExternalJobUpdate value)
    {
        _updates.Enqueue(value);
        onReport?.Invoke(value);
    }
}
