using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

[TestFixture]
public sealed class SlurmJobStateParserTests
{
    // Recorded from `scontrol show job --oneliner 4` on the Debian 12 single-node test cluster (Slurm 22.05.8), shortened.
    private const string RecordedScontrol =
        "JobId=4 JobName=lmoe-abc-a1 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) " +
        "JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:12 " +
        "TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-12-05T08:47:44 EligibleTime=2026-12-05T08:47:50 Partition=debug " +
        "AllocNode:Sid=localhost:2821 NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 TRES=cpu=1,node=1,billing=1 " +
        "Command=/tmp/h12s-t/j2.sh WorkDir=/tmp/h12s-t StdErr=/tmp/h12s-t/slurm-4.log StdIn=/dev/null StdOut=/tmp/h12s-t/slurm-4.log Power= \n";

    [TestCase("PENDING", ExternalJobState.Pending)]
    [TestCase("PD", ExternalJobState.Pending)]
    [TestCase("REQUEUE_HOLD", ExternalJobState.Pending)]
    [TestCase("RUNNING", ExternalJobState.Running)]
    [TestCase("CONFIGURING", ExternalJobState.Running)]
    [TestCase("SUSPENDED", ExternalJobState.Running)]
    [TestCase("COMPLETING", ExternalJobState.Completing)]
    [TestCase("REQUEUED", ExternalJobState.Completing)]
    [TestCase("COMPLETED", ExternalJobState.Completed)]
    [TestCase("FAILED", ExternalJobState.Failed)]
    [TestCase("BOOT_FAIL", ExternalJobState.Failed)]
    [TestCase("CANCELLED by 0", ExternalJobState.Cancelled)]
    [TestCase("CANCELLED+", ExternalJobState.Cancelled)]
    [TestCase("PREEMPTED", ExternalJobState.Preempted)]
    [TestCase("NODE_FAIL", ExternalJobState.NodeFail)]
    [TestCase("TIMEOUT", ExternalJobState.Timeout)]
    [TestCase("OUT_OF_MEMORY", ExternalJobState.OutOfMemory)]
    [TestCase("SOMETHING_NEW", ExternalJobState.Unknown)]
    public void SlurmStatesMapToTheNormalisedState(string raw, ExternalJobState expected) =>
        Assert.That(SlurmJobStateParser.MapState(raw), Is.EqualTo(expected));

    [Test]
    public void OnlyFinishedStatesAreTerminalAndOnlyPreemptionAndNodeFailureAreInfrastructureLosses()
    {
        var terminal = Enum.GetValues<ExternalJobState>().Where(s => s.IsTerminal()).ToArray();
        var losses = Enum.GetValues<ExternalJobState>().Where(s => s.IsInfrastructureLoss()).ToArray();

        Assert.That(terminal, Is.EquivalentTo(new[] { ExternalJobState.Completed, ExternalJobState.Failed, ExternalJobState.Cancelled,
            ExternalJobState.Preempted, ExternalJobState.NodeFail, ExternalJobState.Timeout, ExternalJobState.OutOfMemory }));
        Assert.That(losses, Is.EquivalentTo(new[] { ExternalJobState.Preempted, ExternalJobState.NodeFail }));
    }

    [Test]
    public void RecordedScontrolLineGivesIdNameStateRestartsExitCodeAndLog()
    {
        var record = SlurmJobStateParser.ParseScontrolJob(RecordedScontrol);

        Assert.That(record, Is.Not.Null);
        Assert.That(record!.JobId, Is.EqualTo("4"));
        Assert.That(record.JobName, Is.EqualTo("lmoe-abc-a1"));
        Assert.That(record.Status, Is.EqualTo(new ExternalJobStatus(ExternalJobState.Completed, "COMPLETED", null, 0, 1)));
        Assert.That(record.StdOut, Is.EqualTo("/tmp/h12s-t/slurm-4.log"));
    }

    [Test]
    public void ScontrolErrorTextIsNoJob() =>
        Assert.That(SlurmJobStateParser.ParseScontrolJob("slurm_load_jobs error: Invalid job id specified\n"), Is.Null);

    [Test]
    public void SqueueLinesGiveOneRecordEachWithTheirPendingReason()
    {
        var records = SlurmJobStateParser.ParseSqueue("2|lmoe-abc-a1|PENDING|BeginTime\n\n4|lmoe-abc-a2|RUNNING|None\nbroken\n");

        Assert.That(records.Select(r => (r.JobId, r.JobName, r.Status.State, r.Status.Reason)), Is.EqualTo(new[]
        {
            ("2", "lmoe-abc-a1", ExternalJobState.Pending, (string?)"BeginTime"),
            ("4", "lmoe-abc-a2", ExternalJobState.Running, null),
        }));
    }

    [Test]
    public void SacctGivesTheNewestLineOfARequeuedJob()
    {
        var record = SlurmJobStateParser.ParseSacct("7|lmoe-x-a1|NODE_FAIL|0:0\n7|lmoe-x-a1|CANCELLED by 0|0:15\n");

        Assert.That(record!.Status.State, Is.EqualTo(ExternalJobState.Cancelled));
        Assert.That(record.Status.RawState, Is.EqualTo("CANCELLED"));
        Assert.That(record.Status.ExitCode, Is.EqualTo(143));
    }

    [TestCase("4242\n", "4242")]
    [TestCase("4242;cluster-a\n", "4242")]
    [TestCase("sbatch: warning: something\n17_3\n", "17_3")]
    [TestCase("Submitted batch job 5\n", null)]
    [TestCase("", null)]
    public void ParsableSbatchOutputGivesTheJobId(string output, string? expected) =>
        Assert.That(SlurmJobStateParser.ParseSubmittedJobId(output), Is.EqualTo(expected));

    [TestCase("0:0", 0)]
    [TestCase("3:0", 3)]
    [TestCase("0:9", 137)]
    [TestCase("", null)]
    [TestCase("x:y", null)]
    public void ExitCodeIsTheCodeOr128PlusTheSignal(string text, int? expected) =>
        Assert.That(SlurmJobStateParser.ParseExitCode(text), Is.EqualTo(expected));
}
