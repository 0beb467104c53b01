using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// Stand-ins for sbatch, squeue, scontrol, sacct and scancel in a temp folder: they log every call to calls.log and
/// answer from files the test writes (scontrol-&lt;id&gt;.out, squeue.out, sacct.out, sbatch.fail, on-requeue.sh).
/// </summary>
internal sealed class SlurmFakeCommands : IDisposable
{
    private readonly TempDirectory _temp = new("lmoe-slurm-fake");

    public SlurmFakeCommands()
    {
        Directory.CreateDirectory(Bin);
        Write("sbatch", """
            echo "sbatch $* RUN_DIR=$LLAMAMOE_RUN_DIR" >>"$FAKE_DIR/calls.log"
            if [ -f "$FAKE_DIR/sbatch.fail" ]; then cat "$FAKE_DIR/sbatch.fail" >&2; exit 1; fi
            echo "4242;lmoe"
            """);
        Write("scontrol", """
            echo "scontrol $*" >>"$FAKE_DIR/calls.log"
            case "$1" in
              show) id="${!#}"
                    if [ -f "$FAKE_DIR/scontrol-$id.out" ]; then cat "$FAKE_DIR/scontrol-$id.out"; exit 0; fi
                    echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1 ;;
              requeue) [ -f "$FAKE_DIR/on-requeue.sh" ] && bash "$FAKE_DIR/on-requeue.sh"; exit 0 ;;
            esac
            exit 1
            """);
        Write("squeue", """
            echo "squeue $*" >>"$FAKE_DIR/calls.log"
            [ -f "$FAKE_DIR/squeue.out" ] && cat "$FAKE_DIR/squeue.out"
            exit 0
            """);
        Write("sacct", """
            echo "sacct $*" >>"$FAKE_DIR/calls.log"
            if [ -f "$FAKE_DIR/sacct.out" ]; then cat "$FAKE_DIR/sacct.out"; exit 0; fi
            echo "Slurm accounting storage is disabled" >&2; exit 1
            """);
        Write("scancel", """
            echo "scancel $*" >>"$FAKE_DIR/calls.log"
            exit 0
            """);
    }

    public string Root => _temp.Path;

    public string Bin => _temp.Combine("bin");

    public string RunDir => _temp.Combine("out", "run-0123456789ab");

    public string Calls => File.Exists(_temp.Combine("calls.log")) ? File.ReadAllText(_temp.Combine("calls.log")) : "";

    public SlurmBackendOptions Options(int maxRequeues = 3) => new()
    {
        CommandDirectory = Bin,
        Environment = new Dictionary<string, string> { ["FAKE_DIR"] = _temp.Path, ["FAKE_RUN_DIR"] = RunDir },
        PollInterval = TimeSpan.FromMilliseconds(20),
        MaxRequeues = maxRequeues,
    };

    /// <summary>Makes scontrol show job &lt;id&gt; answer with one key=value line.</summary>
    public void Job(string id, string name, string state, int restarts = 0, string exitCode = "0:0") =>
        File.WriteAllText(_temp.Combine($"scontrol-{id}.out"),
            $"JobId={id} JobName={name} UserId=root(0) JobState={state} Reason=None Dependency=(null) Requeue=1 Restarts={restarts} BatchFlag=1 " +
            $"ExitCode={exitCode} RunTime=00:00:12 StdErr=/logs/slurm-{id}.log StdIn=/dev/null StdOut=/logs/slurm-{id}.log Power=\n");

    public void Answer(string name, string text) => File.WriteAllText(_temp.Combine(name), text);

    public void Events(params string[] lines)
    {
        Directory.CreateDirectory(RunDir);
        File.AppendAllLines(Path.Combine(RunDir, "events.jsonl"), lines);
    }

    public void Dispose() => _temp.Dispose();

    private void Write(string name, string body)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
