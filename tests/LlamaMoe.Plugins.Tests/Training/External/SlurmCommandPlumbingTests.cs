using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>The Slurm backend's command plumbing over fake sbatch/squeue/scontrol/sacct/scancel scripts (no cluster needed).</summary>
[TestFixture]
public sealed class SlurmCommandPlumbingTests
{
    private const string Name = "lmoe-0123456789ab-a1";
    private SlurmFakeCommands _fake = null!;

    [SetUp]
    public void CreateFakes()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("The fake Slurm commands are bash scripts.");
        }

        _fake = new SlurmFakeCommands();
    }

    [TearDown]
    public void DeleteFakes() => _fake?.Dispose();

    [Test]
    public async Task SubmitPassesNameLogRequeueAndClusterOptionsToSbatchAndParsesTheJobId()
    {
        var bundle = Bundle();
        var backend = new SlurmLaunchBackend(_fake.Options() with { Partition = "gpu", Account = "proj", Time = "02:00:00" });

        var handle = await backend.SubmitAsync(bundle, Path.GetDirectoryName(_fake.RunDir)!, _fake.RunDir, Name, default);

        Assert.That(handle.JobId, Is.EqualTo("4242"));
        Assert.That(handle.LogPath, Is.EqualTo(Path.Combine(Path.GetDirectoryName(_fake.RunDir)!, "slurm-4242.log")));
        var call = _fake.Calls.Trim();
        Assert.That(call, Does.StartWith("sbatch --parsable --job-name=lmoe-0123456789ab-a1 --output="));
        Assert.That(call, Does.Contain("slurm-%j.log --open-mode=append --requeue"));
        Assert.That(call, Does.Contain("--partition=gpu --account=proj --time=02:00:00 "));
        Assert.That(call, Does.Contain(Path.Combine(bundle, "launch", "slurm.sbatch") + " RUN_DIR=" + _fake.RunDir));
    }

    [Test]
    public void SbatchFailureRaisesLmoe3451WithSlurmsMessage()
    {
        _fake.Answer("sbatch.fail", "sbatch: error: invalid partition specified: gpu\n");
        var backend = new SlurmLaunchBackend(_fake.Options());

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.SubmitAsync(Bundle(), _fake.Root, _fake.RunDir, Name, default));

        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.CommandFailed));
        Assert.That(error.Message, Does.Contain("invalid partition specified: gpu"));
    }

    [Test]
    public void BundleWithoutSlurmLaunchSpecIsRefusedWithLmoe3453()
    {
        var backend = new SlurmLaunchBackend(_fake.Options());

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.SubmitAsync(_fake.Root, _fake.Root, _fake.RunDir, Name, default));

        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.LaunchSpecMissing));
        Assert.That(error.FilePath, Does.EndWith(Path.Combine("launch", "slurm.sbatch")));
        Assert.That(_fake.Calls, Is.Empty, "nothing was submitted");
    }

    [Test]
    public void MissingSlurmCommandsRaiseLmoe3450()
    {
        var backend = new SlurmLaunchBackend(_fake.Options() with { CommandDirectory = Path.Combine(_fake.Root, "no-such-bin") });

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.SubmitAsync(Bundle(), _fake.Root, _fake.RunDir, Name, default));

        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.CommandMissing));
        Assert.That(error.Key, Is.EqualTo("sbatch"));
    }

    [Test]
    public async Task AttachFallsBackToTheJobNameWhenTheIdIsNoLongerKnown()
    {
        _fake.Answer("squeue.out", $"4100|{Name}|FAILED|NonZeroExitCode\n4243|{Name}|RUNNING|None\n");
        _fake.Job("4243", Name, "RUNNING");
        var backend = new SlurmLaunchBackend(_fake.Options());

        var handle = await backend.TryAttachAsync("999", Name, _fake.RunDir, default);

        Assert.That(handle, Is.Not.Null);
        Assert.That(handle!.JobId, Is.EqualTo("4243"));
        Assert.That(handle.LogPath, Is.EqualTo("/logs/slurm-4243.log"));
        Assert.That(_fake.Calls, Does.Contain($"squeue --noheader --states=all --name={Name}"));
    }

    [Test]
    public async Task AttachIgnoresAJobOfAnotherNameAndAFailedJobWithoutDoneJson()
    {
        _fake.Job("4242", "lmoe-ffffffffffff-a1", "RUNNING");
        _fake.Job("4100", Name, "FAILED", exitCode: "1:0");
        _fake.Answer("squeue.out", $"4100|{Name}|FAILED|NonZeroExitCode\n");
        var backend = new SlurmLaunchBackend(_fake.Options());

        Assert.That(await backend.TryAttachAsync("4242", Name, _fake.RunDir, default), Is.Null);
    }

    [Test]
    public async Task WaitRequeuesACompletedJobWhoseLastEventIsPreemptedAndReturnsOnceDoneJsonAppears()
    {
        _fake.Job("4242", Name, "COMPLETED");
        _fake.Events("""{"v":1,"event":"start","step":0}""", """{"v":1,"event":"preempted","step":4}""");
        _fake.Answer("on-requeue.sh", """
            echo '{"v":1,"event":"resume","from_step":4}' >>"$FAKE_RUN_DIR/events.jsonl"
            echo '{"status":"done","final_step":8,"files":{}}' >"$FAKE_RUN_DIR/DONE.json"
            """);
        var backend = new SlurmLaunchBackend(_fake.Options());
        var updates = new CollectingProgress();

        var outcome = await backend.WaitAsync(Handle(), updates, default);

        Assert.That(_fake.Calls, Does.Contain("scontrol requeue 4242"));
        Assert.That(outcome.FinalStep, Is.EqualTo(8));
        Assert.That(outcome.Restarts, Is.EqualTo(1));
        Assert.That(outcome.Preemptions, Is.EqualTo(1));
        Assert.That(updates.EventNames, Is.EqualTo(new[] { "start", "preempted", "resume" }));
    }

    [Test]
    public async Task WaitRequeuesARunningJobWhoseHeartbeatStoppedAndReportsAStalledEvent()
    {
        _fake.Job("4242", Name, "RUNNING");
        var handle = Handle();
        File.WriteAllText(Path.Combine(_fake.RunDir, "heartbeat"), "");
        File.SetLastWriteTimeUtc(Path.Combine(_fake.RunDir, "heartbeat"), DateTime.UtcNow.AddHours(-1));
        _fake.Answer("on-requeue.sh", """
            sed -i 's/JobState=RUNNING/JobState=COMPLETED/' "$FAKE_DIR/scontrol-4242.out"
            echo '{"status":"done","final_step":3,"files":{}}' >"$FAKE_RUN_DIR/DONE.json"
            """);
        var backend = new SlurmLaunchBackend(_fake.Options() with { StallTimeout = TimeSpan.FromMilliseconds(300) });
        var updates = new CollectingProgress();

        var outcome = await backend.WaitAsync(handle, updates, default);

        Assert.That(_fake.Calls, Does.Contain("scontrol requeue 4242"));
        Assert.That(updates.EventNames, Is.EqualTo(new[] { "stalled" }));
        Assert.That(outcome.Restarts, Is.EqualTo(1));
    }

    [Test]
    public void ARunningJobWithAFreshHeartbeatIsNotRequeued()
    {
        _fake.Job("4242", Name, "RUNNING");
        var handle = Handle();
        var backend = new SlurmLaunchBackend(_fake.Options() with { StallTimeout = TimeSpan.FromSeconds(30) });
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        Assert.CatchAsync<OperationCanceledException>(() => backend.WaitAsync(handle, null, stop.Token));

        Assert.That(_fake.Calls, Does.Not.Contain("requeue"));
        Assert.That(_fake.Calls, Does.Contain("scontrol show job --oneliner 4242"));
    }

    [Test]
    public void WaitStopsAtTheRequeueLimitWithLmoe3458()
    {
        _fake.Job("4242", Name, "NODE_FAIL", restarts: 2);
        var backend = new SlurmLaunchBackend(_fake.Options(maxRequeues: 2));

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.WaitAsync(Handle(), null, default));

        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.TooManyRequeues));
        Assert.That(_fake.Calls, Does.Not.Contain("requeue"));
    }

    [TestCase("FAILED", "3:0", SlurmErrorCodes.JobFailed, "exit code 3")]
    [TestCase("FAILED", "0:9", SlurmErrorCodes.JobFailed, "exit code 137")]
    [TestCase("CANCELLED", "0:15", SlurmErrorCodes.JobCancelled, "cancelled")]
    [TestCase("TIMEOUT", "0:1", SlurmErrorCodes.JobTimeout, "time limit")]
    [TestCase("OUT_OF_MEMORY", "0:125", SlurmErrorCodes.JobOutOfMemory, "memory")]
    [TestCase("COMPLETED", "0:0", SlurmErrorCodes.CompletedWithoutDone, "without writing DONE.json")]
    public void JobEndWithoutDoneJsonRaisesTheCodeOfItsState(string state, string exitCode, string code, string message)
    {
        _fake.Job("4242", Name, state, exitCode: exitCode);
        _fake.Events("""{"v":1,"event":"start","step":0}""");
        var backend = new SlurmLaunchBackend(_fake.Options());

        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.WaitAsync(Handle(), null, default));

        Assert.That(error!.Code, Is.EqualTo(code));
        Assert.That(error.Message, Does.Contain(message));
        Assert.That(error.Key, Is.EqualTo(Name));
    }

    [Test]
    public async Task JobSlurmNoLongerKnowsIsDoneWhenDoneJsonExistsAndLmoe3460Otherwise()
    {
        var backend = new SlurmLaunchBackend(_fake.Options());
        var error = Assert.ThrowsAsync<LlamaMoeException>(() => backend.WaitAsync(Handle(), null, default));
        Assert.That(error!.Code, Is.EqualTo(SlurmErrorCodes.JobVanished));
        Assert.That(_fake.Calls, Does.Contain("sacct --noheader --parsable2 --allocations"), "sacct is asked after scontrol");

        File.WriteAllText(Path.Combine(_fake.RunDir, "DONE.json"), """{"status":"done","final_step":5,"files":{}}""");
        var outcome = await backend.WaitAsync(Handle(), null, default);
        Assert.That(outcome.FinalStep, Is.EqualTo(5));
        Assert.That(outcome.FinalState, Is.EqualTo(ExternalJobState.Unknown));
    }

    [Test]
    public async Task StateComesFromSacctWhenScontrolHasForgottenTheJob()
    {
        _fake.Answer("sacct.out", $"4242|{Name}|PREEMPTED|0:0\n4242|{Name}|COMPLETED|0:0\n");
        var backend = new SlurmLaunchBackend(_fake.Options());

        var status = await backend.GetStatusAsync(Handle(), default);

        Assert.That(status.State, Is.EqualTo(ExternalJobState.Completed));
    }

    [Test]
    public async Task CancelAndPreemptSignalTheJobThroughScancel()
    {
        var backend = new SlurmLaunchBackend(_fake.Options());

        await backend.CancelAsync(Handle(), default);
        await backend.SignalPreemptAsync(Handle(), default);

        Assert.That(_fake.Calls.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "scancel 4242", "scancel --signal=USR1 --batch 4242" }));
    }

    private ExternalJobHandle Handle()
    {
        Directory.CreateDirectory(_fake.RunDir);
        return new ExternalJobHandle("slurm", "4242", Name, _fake.RunDir, null);
    }

    private string Bundle()
    {
        var bundle = Path.Combine(_fake.Root, "bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "launch"));
        File.WriteAllText(Path.Combine(bundle, "launch", "slurm.sbatch"), "#!/bin/bash\n");
        return bundle;
    }
}
