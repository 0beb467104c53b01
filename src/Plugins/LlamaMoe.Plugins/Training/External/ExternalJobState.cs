namespace LlamaMoe.Plugins.Training.External;

/// <summary>The state of a training job on an external scheduler, normalised over Slurm, Kubernetes and local launches.</summary>
public enum ExternalJobState
{
    /// <summary>The scheduler does not know the job (never submitted, purged, or its state could not be read).</summary>
    Unknown,

    /// <summary>Queued: waiting for resources, a begin time, or after a requeue.</summary>
    Pending,

    /// <summary>Running (includes Slurm's CONFIGURING and SUSPENDED).</summary>
    Running,

    /// <summary>The job's processes ended; the scheduler is cleaning up (Slurm COMPLETING, REQUEUED, RESIZING).</summary>
    Completing,

    /// <summary>The job script exited 0.</summary>
    Completed,

    /// <summary>The job script exited non-zero (Slurm FAILED, BOOT_FAIL, DEADLINE).</summary>
    Failed,

    /// <summary>Cancelled by a user or an administrator.</summary>
    Cancelled,

    /// <summary>Preempted by the scheduler.</summary>
    Preempted,

    /// <summary>A node of the job failed.</summary>
    NodeFail,

    /// <summary>The job reached its time limit.</summary>
    Timeout,

    /// <summary>The job exceeded its memory limit.</summary>
    OutOfMemory,
}

/// <summary>Helpers over <see cref="ExternalJobState"/>.</summary>
public static class ExternalJobStates
{
    /// <summary>True when the scheduler has finished with the job (it will not run again unless requeued or resubmitted).</summary>
    public static bool IsTerminal(this ExternalJobState state) => state is ExternalJobState.Completed or ExternalJobState.Failed
        or ExternalJobState.Cancelled or ExternalJobState.Preempted or ExternalJobState.NodeFail or ExternalJobState.Timeout
        or ExternalJobState.OutOfMemory;

    /// <summary>True for ends caused by the infrastructure rather than the trainer (preemption, node failure): requeue and resume.</summary>
    public static bool IsInfrastructureLoss(this ExternalJobState state) => state is ExternalJobState.Preempted or ExternalJobState.NodeFail;
}

/// <summary>What a backend needs to find a submitted job again, also after this process died.</summary>
/// <param name="Backend">Backend id, such as <c>slurm</c>.</param>
/// <param name="JobId">The scheduler's job id.</param>
/// <param name="JobName">The job name (<c>lmoe-&lt;key12&gt;-a&lt;attempt&gt;</c>), used to find the job when the id is lost.</param>
/// <param name="RunDirectory">The folder the trainer writes (<c>&lt;output_uri&gt;/run-&lt;key12&gt;</c>): events.jsonl, progress.jsonl, DONE.json.</param>
/// <param name="LogPath">The job's stdout/stderr log, or null when unknown.</param>
public sealed record ExternalJobHandle(string Backend, string JobId, string JobName, string RunDirectory, string? LogPath);

/// <summary>One reading of a job's state from the scheduler.</summary>
/// <param name="State">Normalised state.</param>
/// <param name="RawState">The scheduler's own word (Slurm: <c>RUNNING</c>, <c>NODE_FAIL</c>, ...).</param>
/// <param name="Reason">The scheduler's reason (pending reason, failure reason), or null.</param>
/// <param name="ExitCode">Exit code of the job script when known.</param>
/// <param name="Restarts">How often the scheduler requeued the job.</param>
public sealed record ExternalJobStatus(ExternalJobState State, string RawState, string? Reason, int? ExitCode, int Restarts);

/// <summary>One <c>progress.jsonl</c> record (or <c>LMOE_PROGRESS</c> log line) of the output contract; <c>Timestamp</c> is <c>ts</c> (Unix seconds).</summary>
public sealed record ExternalTrainingProgress(
    long Step, long MaxSteps, double? Epoch, double? Loss, double? LearningRate, double? GradNorm, long? TokensSeen,
    double? TokensPerSecondPerGpu, double? Mfu, double? MemoryGb, double? Timestamp = null);

/// <summary>One <c>events.jsonl</c> record: start, resume, checkpoint, preempted, error or done (or <c>stalled</c>, reported by a backend that requeued a silent job).</summary>
public sealed record ExternalTrainingEvent(string Event, long? Step, long? FromStep, string? Code, string? Message);

/// <summary>What a backend reports while a job runs: a state change, a progress record or an event (exactly one is set).</summary>
public sealed record ExternalJobUpdate(ExternalJobStatus? Status, ExternalTrainingProgress? Progress, ExternalTrainingEvent? Event);

/// <summary>How a job ended for good: the trainer wrote DONE.json.</summary>
/// <param name="Handle">The job (its id may differ from the submitted one after a resubmission).</param>
/// <param name="FinalState">The scheduler's last state.</param>
/// <param name="FinalStep">The last step reported (DONE.json's <c>final_step</c> when readable).</param>
/// <param name="Restarts">Restarts seen: scheduler requeues plus resubmissions.</param>
/// <param name="Preemptions">How many <c>preempted</c> events the trainer wrote.</param>
public sealed record ExternalJobOutcome(ExternalJobHandle Handle, ExternalJobState FinalState, long? FinalStep, int Restarts, int Preemptions);

/// <summary>
/// A launch backend for a training job bundle (Slurm, Kubernetes, local torchrun): submit, find again after a crash,
/// follow to the end while streaming progress, cancel. Errors are <see cref="LlamaMoeException"/>s with stable codes.
/// </summary>
public interface IExternalJobBackend
{
    /// <summary>Backend id, written into run.json (<c>slurm</c>).</summary>
    string Name { get; }

    /// <summary>Submits the bundle's launch spec. The caller writes run.json before and adds the returned id after.</summary>
    Task<ExternalJobHandle> SubmitAsync(string bundleDirectory, string outputUri, string runDirectory, string jobName, CancellationToken cancellationToken);

    /// <summary>Finds a job submitted earlier, by id when given (and still known to the scheduler) else by name; null when there is none to attach to.</summary>
    Task<ExternalJobHandle?> TryAttachAsync(string? jobId, string jobName, string runDirectory, CancellationToken cancellationToken);

    /// <summary>Reads the job's current state.</summary>
    Task<ExternalJobStatus> GetStatusAsync(ExternalJobHandle handle, CancellationToken cancellationToken);

    /// <summary>
    /// Follows the job until the trainer wrote DONE.json, requeueing after preemption; reports state changes, progress and events.
    /// Cancelling the token stops following (the job keeps running: call <see cref="CancelAsync"/> to stop it).
    /// </summary>
    Task<ExternalJobOutcome> WaitAsync(ExternalJobHandle handle, IProgress<ExternalJobUpdate>? progress, CancellationToken cancellationToken);

    /// <summary>Cancels the job (the trainer gets SIGTERM, then SIGKILL after the scheduler's grace period).</summary>
    Task CancelAsync(ExternalJobHandle handle, CancellationToken cancellationToken);
}
