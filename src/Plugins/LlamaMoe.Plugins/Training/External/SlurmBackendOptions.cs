namespace LlamaMoe.Plugins.Training.External;

/// <summary>Settings of the Slurm launch backend (immutable). Launch-only: none of them changes what the job computes.</summary>
public sealed record SlurmBackendOptions
{
    /// <summary>Folder holding the Slurm client commands (sbatch, squeue, scontrol, scancel, sacct); null: found on PATH.</summary>
    public string? CommandDirectory { get; init; }

    /// <summary>Extra environment for every Slurm command (for example <c>SLURM_CONF</c>).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>How often the job state and the run folder are read while waiting.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one Slurm command may take before it counts as failed (LMOE3451).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many requeues or resubmissions after preemption or node failure are allowed before LMOE3458.</summary>
    public int MaxRequeues { get; init; } = 3;

    /// <summary>
    /// A running job whose <c>heartbeat</c> file is older than the larger of this and 10 × the median step time is
    /// requeued (it resumes from its newest checkpoint); counts against <see cref="MaxRequeues"/>. Null: never.
    /// </summary>
    public TimeSpan? StallTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary><c>sbatch --partition</c>, or null for the cluster's default.</summary>
    public string? Partition { get; init; }

    /// <summary><c>sbatch --account</c>, or null.</summary>
    public string? Account { get; init; }

    /// <summary><c>sbatch --time</c> (e.g. <c>24:00:00</c>), or null to keep the launch spec's.</summary>
    public string? Time { get; init; }

    /// <summary><c>sbatch --qos</c>, or null.</summary>
    public string? Qos { get; init; }

    /// <summary><c>sbatch --constraint</c>, or null.</summary>
    public string? Constraint { get; init; }

    /// <summary>Further sbatch arguments, placed before the script path.</summary>
    public IReadOnlyList<string> ExtraSbatchArguments { get; init; } = [];
}
