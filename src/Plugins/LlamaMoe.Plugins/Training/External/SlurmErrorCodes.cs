namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// The error codes of the Slurm launch backend (LMOE3450–3469; documented in docs/error-codes.md). A trainer's own
/// <c>error</c> event code (LMOE3410, LMOE3422, LMOE3423, ...) is raised as it is.
/// </summary>
public static class SlurmErrorCodes
{
    /// <summary>A Slurm client command (sbatch, squeue, scontrol, scancel) is not installed or not on PATH.</summary>
    public const string CommandMissing = "LMOE3450";

    /// <summary>A Slurm command exited with a failure or did not answer in time.</summary>
    public const string CommandFailed = "LMOE3451";

    /// <summary><c>sbatch --parsable</c> printed no job id.</summary>
    public const string NoJobId = "LMOE3452";

    /// <summary>The bundle has no <c>launch/slurm.sbatch</c>.</summary>
    public const string LaunchSpecMissing = "LMOE3453";

    /// <summary>The job failed (non-zero exit, boot failure) and the trainer reported no code of its own.</summary>
    public const string JobFailed = "LMOE3454";

    /// <summary>The job was cancelled by someone else (scancel, an administrator).</summary>
    public const string JobCancelled = "LMOE3455";

    /// <summary>The job reached its time limit without checkpointing and requeueing itself.</summary>
    public const string JobTimeout = "LMOE3456";

    /// <summary>The job exceeded its memory limit.</summary>
    public const string JobOutOfMemory = "LMOE3457";

    /// <summary>The job was preempted or lost a node more often than the allowed number of requeues.</summary>
    public const string TooManyRequeues = "LMOE3458";

    /// <summary>The job completed (exit 0) without DONE.json and without a <c>preempted</c> event.</summary>
    public const string CompletedWithoutDone = "LMOE3459";

    /// <summary>The scheduler no longer knows the job (purged from its memory, accounting off) and the run folder holds no DONE.json.</summary>
    public const string JobVanished = "LMOE3460";
}
