namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Follows one Slurm job to DONE.json: polls its state, streams the run folder, requeues it when the trainer reported
/// <c>preempted</c> and exited without requeueing itself or Slurm preempted it or lost its node, and raises a coded error
/// for every other end. One instance per <see cref="SlurmLaunchBackend.WaitAsync"/> call.
/// </summary>
internal sealed class SlurmJobFollower
{
    private readonly SlurmLaunchBackend _backend;
    private readonly SlurmBackendOptions _options;
    private readonly ExternalJobHandle _handle;
    private readonly IProgress<ExternalJobUpdate>? _progress;
    private readonly SlurmOutputTail _tail;
    private ExternalJobStatus? _lastStatus;
    private ExternalTrainingEvent? _lastEvent;
    private ExternalTrainingEvent? _lastError;
    private long? _lastStep;
    private int _preemptions;
    private int _requeuesByUs;
    private DateTime? _runningSince;
    private readonly List<double> _stepSeconds = [];
    private double? _lastProgressTimestamp;

    internal SlurmJobFollower(SlurmLaunchBackend backend, SlurmBackendOptions options, ExternalJobHandle handle, IProgress<ExternalJobUpdate>? progress)
    {
        _backend = backend;
        _options = options;
        _handle = handle;
        _progress = progress;
        _tail = new SlurmOutputTail(handle.RunDirectory, handle.LogPath);
    }

    internal async Task<ExternalJobOutcome> RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var status = await _backend.GetStatusAsync(_handle, cancellationToken).ConfigureAwait(false);
            if (_lastStatus is null || status.State != _lastStatus.State || status.RawState != _lastStatus.RawState || status.Restarts != _lastStatus.Restarts)
            {
                _lastStatus = status;
                _progress?.Report(new ExternalJobUpdate(status, null, null));
            }

            DrainOutput();
            _runningSince = status.State == ExternalJobState.Running ? _runningSince ?? DateTime.UtcNow : null;
            if (Stalled() is { } silence)
            {
                _progress?.Report(new ExternalJobUpdate(null, null, new ExternalTrainingEvent("stalled", _lastStep, null, null,
                    $"no heartbeat for {silence.TotalSeconds:0} s; requeueing")));
                await RequeueAsync(status, $"it stalled (no heartbeat for {silence.TotalSeconds:0} s)", cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (status.State.IsTerminal() || status.State == ExternalJobState.Unknown)
            {
                if (_tail.ReadDoneFinalStep() is { } finalStep)
                {
                    return new ExternalJobOutcome(_handle, status.State, finalStep >= 0 ? finalStep : _lastStep, Math.Max(status.Restarts, _requeuesByUs), _preemptions);
                }

                if (NeedsRequeue(status))
                {
                    await RequeueAsync(status, $"it ended {status.RawState}" + (_lastEvent?.Event == "preempted" ? " after a preempted event" : ""),
                        cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw Failure(status);
            }

            await Task.Delay(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private void DrainOutput()
    {
        foreach (var update in _tail.ReadNew())
        {
            if (update.Event is { } ev)
            {
                _lastEvent = ev;
                if (ev.Event == "preempted")
                {
                    _preemptions++;
                }
                else if (ev.Event == "error")
                {
                    _lastError = ev;
                }

                _lastStep = ev.Step ?? _lastStep;
            }

            if (update.Progress is { } p)
            {
                _lastStep = p.Step;
                if (p.Timestamp is { } ts)
                {
                    if (_lastProgressTimestamp is { } previous && ts > previous)
                    {
                        _stepSeconds.Add(ts - previous);
                    }

                    _lastProgressTimestamp = ts;
                }
            }

            _progress?.Report(update);
        }
    }

    /// <summary>
    /// The silence so far when a running job's heartbeat is older than max(<see cref="SlurmBackendOptions.StallTimeout"/>,
    /// 10 × the median step time), counted from when this attempt was first seen running; null while it is alive.
    /// </summary>
    private TimeSpan? Stalled()
    {
        if (_options.StallTimeout is not { } minimum || _runningSince is not { } since)
        {
            return null;
        }

        var heartbeat = Path.Combine(_handle.RunDirectory, "heartbeat");
        var lastSign = File.Exists(heartbeat) ? new[] { since, File.GetLastWriteTimeUtc(heartbeat) }.Max() : since;
        var limit = minimum;
        if (_stepSeconds.Count > 0)
        {
            var sorted = _stepSeconds.Order().ToList();
            limit = TimeSpan.FromSeconds(Math.Max(minimum.TotalSeconds, 10 * sorted[sorted.Count / 2]));
        }

        var silence = DateTime.UtcNow - lastSign;
        return silence > limit ? silence : null;
    }

    private bool NeedsRequeue(ExternalJobStatus status) =>
        status.State.IsInfrastructureLoss() || (status.State == ExternalJobState.Completed && _lastEvent?.Event == "preempted");

    private async Task RequeueAsync(ExternalJobStatus status, string why, CancellationToken cancellationToken)
    {
        var restarts = Math.Max(status.Restarts, _requeuesByUs);
        if (restarts >= _options.MaxRequeues)
        {
            throw new LlamaMoeException(SlurmErrorCodes.TooManyRequeues,
                $"Slurm job {_handle.JobId} ({_handle.JobName}) needs a requeue because {why}, after {restarts} requeues; the limit is {_options.MaxRequeues}.",
                filePath: _handle.LogPath, key: _handle.JobName,
                advice: "The newest COMPLETE checkpoint is kept: rerun to resume, raise executor.retries, or use a partition without preemption.");
        }

        await _backend.RequeueAsync(_handle, cancellationToken).ConfigureAwait(false);
        _requeuesByUs++;
        _lastEvent = null;
        _lastStatus = null;
        _runningSince = null;
    }

    private LlamaMoeException Failure(ExternalJobStatus status)
    {
        var where = $"Slurm job {_handle.JobId} ({_handle.JobName})";
        if (_lastError is { Code: { Length: > 0 } code })
        {
            return new LlamaMoeException(code, $"{where} stopped: {_lastError.Message ?? "the trainer reported an error"}",
                filePath: Path.Combine(_handle.RunDirectory, "events.jsonl"), key: _handle.JobName,
                advice: "See the trainer's message and the job log" + (_handle.LogPath is null ? "." : $" {_handle.LogPath}."));
        }

        var log = _handle.LogPath is null ? "the job log" : _handle.LogPath;
        return status.State switch
        {
            ExternalJobState.Completed => new LlamaMoeException(SlurmErrorCodes.CompletedWithoutDone,
                $"{where} exited 0 without writing DONE.json and without a preempted event.", filePath: log, key: _handle.JobName,
                advice: "The launch spec must run the trainer to the end (python -m llamamoe_hf.train); read the job log, then rerun to resubmit."),
            ExternalJobState.Cancelled => new LlamaMoeException(SlurmErrorCodes.JobCancelled,
                $"{where} was cancelled outside this run ({status.Reason ?? status.RawState}).", filePath: log, key: _handle.JobName,
                advice: "Rerun to submit it again; it resumes from the newest COMPLETE checkpoint."),
            ExternalJobState.Timeout => new LlamaMoeException(SlurmErrorCodes.JobTimeout,
                $"{where} reached its time limit.", filePath: log, key: _handle.JobName,
                advice: "Raise executor.slurm.time, or keep --signal=B:USR1@600 in the launch spec so the trainer checkpoints and requeues in time; rerun to resume."),
            ExternalJobState.OutOfMemory => new LlamaMoeException(SlurmErrorCodes.JobOutOfMemory,
                $"{where} ran out of host memory.", filePath: log, key: _handle.JobName,
                advice: "Ask for more memory (executor.slurm extra arguments --mem) or lower micro-batch / use gradient checkpointing."),
            ExternalJobState.Unknown => new LlamaMoeException(SlurmErrorCodes.JobVanished,
                $"{where} is no longer known to Slurm and {_tail.DonePath} does not exist.", filePath: log, key: _handle.JobName,
                advice: "Read the job log; rerun to submit again (it resumes from the newest COMPLETE checkpoint)."),
            _ => new LlamaMoeException(SlurmErrorCodes.JobFailed,
                $"{where} ended {status.RawState}" + (status.ExitCode is { } exit ? $" with exit code {exit}" : "") + ".", filePath: log, key: _handle.JobName,
                advice: "Read the job log for the trainer's traceback; fix and rerun."),
        };
    }
}
