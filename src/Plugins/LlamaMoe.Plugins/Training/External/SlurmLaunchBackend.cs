using System.Globalization;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Launches a job bundle on Slurm: <c>sbatch --parsable &lt;bundle&gt;/launch/slurm.sbatch</c> under the job name
/// <c>lmoe-&lt;key12&gt;-a&lt;attempt&gt;</c>, finds it again by id (scontrol, sacct) or name (squeue), follows it while
/// tailing the run folder, requeues it after preemption and turns bad ends into coded errors.
/// The job gets <c>LLAMAMOE_BUNDLE</c>, <c>LLAMAMOE_OUTPUT_URI</c> and <c>LLAMAMOE_RUN_DIR</c> in its environment.
/// </summary>
public sealed class SlurmLaunchBackend : IExternalJobBackend
{
    private readonly SlurmBackendOptions _options;
    private readonly SlurmCommandRunner _runner;

    /// <summary>Creates a backend with the given settings.</summary>
    public SlurmLaunchBackend(SlurmBackendOptions options)
    {
        _options = options;
        _runner = new SlurmCommandRunner(options);
    }

    /// <inheritdoc />
    public string Name => "slurm";

    /// <summary>The job name of attempt <paramref name="attempt"/> of the stage with content key <paramref name="contentKey"/>.</summary>
    public static string JobName(string contentKey, int attempt) =>
        string.Create(CultureInfo.InvariantCulture, $"lmoe-{contentKey[..Math.Min(12, contentKey.Length)]}-a{attempt}");

    /// <inheritdoc />
    public async Task<ExternalJobHandle> SubmitAsync(
        string bundleDirectory, string outputUri, string runDirectory, string jobName, CancellationToken cancellationToken)
    {
        var script = Path.GetFullPath(Path.Combine(bundleDirectory, "launch", "slurm.sbatch"));
        if (!File.Exists(script))
        {
            throw new LlamaMoeException(SlurmErrorCodes.LaunchSpecMissing, "The job bundle has no Slurm launch spec.", filePath: script,
                advice: "Rebuild the bundle with this version (it writes launch/slurm.sbatch), or point the stage at the right bundle folder.");
        }

        Directory.CreateDirectory(outputUri); // Slurm does not create the folder of --output
        var logPattern = Path.GetFullPath(Path.Combine(outputUri, "slurm-%j.log"));
        var arguments = new List<string>
        {
            "--parsable", $"--job-name={jobName}", $"--output={logPattern}", "--open-mode=append", "--requeue",
            $"--chdir={Path.GetFullPath(bundleDirectory)}",
        };
        AddIfSet(arguments, "--partition", _options.Partition);
        AddIfSet(arguments, "--account", _options.Account);
        AddIfSet(arguments, "--time", _options.Time);
        AddIfSet(arguments, "--qos", _options.Qos);
        AddIfSet(arguments, "--constraint", _options.Constraint);
        arguments.AddRange(_options.ExtraSbatchArguments);
        arguments.Add(script);

        var environment = new Dictionary<string, string>
        {
            ["LLAMAMOE_BUNDLE"] = Path.GetFullPath(bundleDirectory),
            ["LLAMAMOE_OUTPUT_URI"] = Path.GetFullPath(outputUri),
            ["LLAMAMOE_RUN_DIR"] = Path.GetFullPath(runDirectory),
        };
        var output = await _runner.RunCheckedAsync("sbatch", arguments, cancellationToken, environment).ConfigureAwait(false);
        var jobId = SlurmJobStateParser.ParseSubmittedJobId(output)
            ?? throw new LlamaMoeException(SlurmErrorCodes.NoJobId, $"sbatch --parsable printed no job id: '{output.Trim()}'.", filePath: script,
                advice: "Check that the cluster's sbatch supports --parsable (Slurm 14.03 or later) and that no wrapper prints extra lines.");
        return new ExternalJobHandle(Name, jobId, jobName, runDirectory, logPattern.Replace("%j", jobId, StringComparison.Ordinal));
    }

    /// <inheritdoc />
    public async Task<ExternalJobHandle?> TryAttachAsync(string? jobId, string jobName, string runDirectory, CancellationToken cancellationToken)
    {
        if (jobId is not null && await QueryAsync(jobId, cancellationToken).ConfigureAwait(false) is { } byId && byId.JobName == jobName
            && Attachable(byId, runDirectory))
        {
            return ToHandle(byId, runDirectory);
        }

        var listing = await _runner.RunCheckedAsync("squeue", ["--noheader", "--states=all", $"--name={jobName}", "--format", SlurmJobStateParser.SqueueFormat],
            cancellationToken).ConfigureAwait(false);
        var candidates = SlurmJobStateParser.ParseSqueue(listing).Where(r => r.JobName == jobName)
            .OrderBy(r => r.Status.State.IsTerminal()).ThenByDescending(r => long.TryParse(r.JobId, out var n) ? n : 0);
        foreach (var candidate in candidates)
        {
            var full = await QueryAsync(candidate.JobId, cancellationToken).ConfigureAwait(false) ?? candidate;
            if (Attachable(full, runDirectory))
            {
                return ToHandle(full, runDirectory);
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async Task<ExternalJobStatus> GetStatusAsync(ExternalJobHandle handle, CancellationToken cancellationToken) =>
        (await QueryAsync(handle.JobId, cancellationToken).ConfigureAwait(false))?.Status
        ?? new ExternalJobStatus(ExternalJobState.Unknown, "UNKNOWN", "the scheduler does not know the job", null, 0);

    /// <inheritdoc />
    public Task<ExternalJobOutcome> WaitAsync(ExternalJobHandle handle, IProgress<ExternalJobUpdate>? progress, CancellationToken cancellationToken) =>
        new SlurmJobFollower(this, _options, handle, progress).RunAsync(cancellationToken);

    /// <inheritdoc />
    public Task CancelAsync(ExternalJobHandle handle, CancellationToken cancellationToken) =>
        _runner.RunCheckedAsync("scancel", [handle.JobId], cancellationToken);

    /// <summary>Asks Slurm to put the job back in the queue (<c>scontrol requeue</c>); the trainer resumes from its newest checkpoint.</summary>
    public Task RequeueAsync(ExternalJobHandle handle, CancellationToken cancellationToken) =>
        _runner.RunCheckedAsync("scontrol", ["requeue", handle.JobId], cancellationToken);

    /// <summary>Sends <c>SIGUSR1</c> to the job's batch shell, as Slurm does before the time limit: the trainer checkpoints and asks for a requeue.</summary>
    public Task SignalPreemptAsync(ExternalJobHandle handle, CancellationToken cancellationToken) =>
        _runner.RunCheckedAsync("scancel", ["--signal=USR1", "--batch", handle.JobId], cancellationToken);

    /// <summary>Reads one job from scontrol, else sacct; null when neither knows it.</summary>
    internal async Task<SlurmJobRecord?> QueryAsync(string jobId, CancellationToken cancellationToken)
    {
        var shown = await _runner.RunAsync("scontrol", ["show", "job", "--oneliner", jobId], cancellationToken).ConfigureAwait(false);
        if (shown.Succeeded && SlurmJobStateParser.ParseScontrolJob(shown.StandardOutput) is { } record)
        {
            return record;
        }

        if (!shown.Succeeded && !shown.StandardError.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
        {
            throw new LlamaMoeException(SlurmErrorCodes.CommandFailed, $"scontrol show job {jobId} failed: {shown.StandardError.Trim()}",
                key: jobId, advice: "Check that the controller answers (scontrol ping) and that SLURM_CONF points at this cluster.");
        }

        var accounted = await _runner.RunAsync("sacct", ["--noheader", "--parsable2", "--allocations", "--format=JobID,JobName,State,ExitCode", $"--jobs={jobId}"],
            cancellationToken).ConfigureAwait(false);
        return accounted.Succeeded ? SlurmJobStateParser.ParseSacct(accounted.StandardOutput) : null;
    }

    private static bool Attachable(SlurmJobRecord record, string runDirectory) =>
        !record.Status.State.IsTerminal() || File.Exists(Path.Combine(runDirectory, "DONE.json"));

    private ExternalJobHandle ToHandle(SlurmJobRecord record, string runDirectory) =>
        new(Name, record.JobId, record.JobName, runDirectory, record.StdOut is { Length: > 0 } log && log != "(null)" ? log : null);

    private static void AddIfSet(List<string> arguments, string option, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            arguments.Add($"{option}={value}");
        }
    }
}
