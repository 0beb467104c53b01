using System.Diagnostics;
using System.Text.Json.Nodes;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// <c>executor: { kind: slurm }</c> end to end on the single-node test cluster (scripts/slurm-test-cluster.sh): the stage
/// submits the generated launch/slurm.sbatch running the fake trainer, follows it, and imports the result. Ignored, with the
/// reason, where Slurm cannot start or python3 is absent.
/// </summary>
[TestFixture]
[Category("Slurm")]
[NonParallelizable]
public sealed class SlurmPipelineTests
{
    // The test node has no GPUs: --gpus-per-node=0 on the command line overrides the script's #SBATCH --gpus-per-node.
    private const string Executor = "kind: slurm, slurm: { submit: true, sbatch-args: [ \"--gpus-per-node=0\" ], poll-seconds: 0.5 }";
    private string conf = "";

    [OneTimeSetUp]
    public void StartCluster() => conf = SlurmTestCluster.RequireConf();

    [OneTimeTearDown]
    public void StopCluster() => SlurmTestCluster.StopIfStartedHere();

    [Test]
    public async Task ASlurmStageSubmitsFollowsAndImportsTheJobAndIsUpToDateOnTheSecondRun()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("SLURM_CONF", conf);
        var yaml = fixture.Pipeline(Executor);

        var first = await fixture.RunAsync(yaml).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.That(first.Single(o => o.StageId == "tune").Status, Is.EqualTo(StageStatus.Ran));
        Assert.That(fixture.Logs, Has.Some.Contain("submitted Slurm job"));
        var metrics = File.ReadAllLines(Path.Combine(fixture.Artifact, "metrics.jsonl"));
        Assert.That(metrics.Select(l => (int)JsonNode.Parse(l)!["step"]!), Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(Directory.GetFiles(fixture.Output, "slurm-*.log"), Has.Length.EqualTo(1), "the job log is in the output folder");

        var second = await fixture.RunAsync(yaml);

        Assert.That(second.Select(o => o.Status), Is.All.EqualTo(StageStatus.UpToDate));
        Assert.That(fixture.Events().Count(e => (string?)e["event"] == "start"), Is.EqualTo(1));
    }

    [Test]
    public async Task CancellingTheRunCancelsTheSlurmJob()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("SLURM_CONF", conf);
        fixture.Set("LLAMAMOE_FAKE_STEP_SECONDS", "0.5");
        using var cancel = new CancellationTokenSource();
        var run = fixture.RunAsync(fixture.Pipeline(Executor, maxSteps: 400), cancel.Token);
        await fixture.WaitForStepAsync(1, TimeSpan.FromMinutes(3));
        var jobId = fixture.Logs.Select(l => l.Split("submitted Slurm job ")).Where(p => p.Length == 2).Select(p => p[1].Split(' ')[0]).Single();

        await cancel.CancelAsync();

        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(await JobStateAsync(jobId), Does.StartWith("CANCELLED").Or.Empty, "scancel stopped the job");
    }

    [Test]
    public async Task ARerunAfterDetachingReattachesToTheSlurmJobInsteadOfSubmittingASecondOne()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("SLURM_CONF", conf);
        fixture.Set("LLAMAMOE_FAKE_STEP_SECONDS", "0.4");
        var yaml = fixture.Pipeline(Executor.Replace("kind: slurm", "kind: slurm, on-cancel: detach", StringComparison.Ordinal), maxSteps: 12);
        using (var cancel = new CancellationTokenSource())
        {
            var run = fixture.RunAsync(yaml, cancel.Token);
            await fixture.WaitForStepAsync(1, TimeSpan.FromMinutes(3));
            await cancel.CancelAsync();
            Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        }

        var outcomes = await fixture.RunAsync(yaml).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.That(outcomes.Single(o => o.StageId == "tune").Status, Is.EqualTo(StageStatus.Ran));
        Assert.That(fixture.Logs.Count(l => l.Contains("submitted Slurm job", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(fixture.Logs, Has.Some.Contain("re-attaching to Slurm job"));
        Assert.That(fixture.Events().Count(e => (string?)e["event"] == "start"), Is.EqualTo(1), "no second job ran");
    }

    [Test]
    public void ANaNLossInTheSlurmJobStopsTheStageWithTheTrainersCodeAndNamesTheJobLog()
    {
        using var fixture = new ExternalPipelineFixture();
        fixture.Set("SLURM_CONF", conf);
        fixture.Set("LLAMAMOE_FAKE_NAN_AT_STEP", "2");

        var error = Assert.ThrowsAsync<LlamaMoeException>(async () => await fixture.RunAsync(fixture.Pipeline(Executor)).WaitAsync(TimeSpan.FromMinutes(4)));

        Assert.That(error!.Code, Is.EqualTo("LMOE3422"), error.Message);
        Assert.That(error.Advice, Does.Contain(Path.Combine(fixture.Output, "slurm-")));
        Assert.That(Directory.Exists(fixture.Artifact), Is.False, "nothing is published");
    }

    private static async Task<string> JobStateAsync(string jobId)
    {
        for (var i = 0; i < 40; i++)
        {
            var info = new ProcessStartInfo("squeue", ["--noheader", "--states=all", "--format=%T", $"--jobs={jobId}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            var state = (await process.StandardOutput.ReadToEndAsync()).Trim();
            await process.WaitForExitAsync();
            if (state is not ("RUNNING" or "COMPLETING" or "PENDING"))
            {
                return state;
            }

            await Task.Delay(250);
        }

        return "still running";
    }
}
