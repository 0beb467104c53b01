namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// The error codes of the external training executors (job bundle, launch, import; LMOE3400–3409, LMOE3416–3421,
/// LMOE3424–3428, LMOE3430–3449; documented in docs/error-codes.md). The Python side raises LMOE3410–3415, LMOE3422, LMOE3423, LMOE3429.
/// </summary>
public static class ExternalTrainingErrorCodes
{
    /// <summary>The job bundle was written for a cluster executor (slurm, kubernetes, bundle-only): launch it as its README says, then rerun to import.</summary>
    public const string LaunchByHand = "LMOE3400";

    /// <summary>The global batch is not an integer multiple of micro-batch × world size (gradient accumulation would not be an integer).</summary>
    public const string GradientAccumulation = "LMOE3401";

    /// <summary>ZeRO sharding without a DeepSpeed pin in the executor's constraints.</summary>
    public const string DeepSpeedMissing = "LMOE3402";

    /// <summary>The model (attention-MoE, dense contract layers, unequal experts) or an option (cv2 balance loss, z-loss) needs the llamamoe modeling profile.</summary>
    public const string ProfileCannotExpress = "LMOE3403";

    /// <summary>The Python package python/llamamoe_hf was not found (LLAMAMOE_PYTHON_PACKAGE or the copy next to the tool).</summary>
    public const string PythonPackageMissing = "LMOE3404";

    /// <summary>A written bundle file differs from BUNDLE.json (bundles are read-only once written).</summary>
    public const string BundleModified = "LMOE3405";

    /// <summary>The launched trainer exited with a failure (exit code, or an error event without a Python-side code).</summary>
    public const string TrainerFailed = "LMOE3406";

    /// <summary>The trainer exited without DONE.json after the allowed relaunches (preemptions or crashes).</summary>
    public const string RetriesExhausted = "LMOE3407";

    /// <summary>run.json in the stage's temp folder is unreadable or belongs to another stage key.</summary>
    public const string RunRecordInvalid = "LMOE3408";

    /// <summary>An executor option is invalid for the model or the other options (located at the key).</summary>
    public const string ExecutorOption = "LMOE3409";

    /// <summary>A job-bundle file would hold a secret value (secrets travel by reference, through the environment of the launch).</summary>
    public const string SecretInJobFile = "LMOE3420";

    /// <summary>No heartbeat from a running job for longer than the allowed silence.</summary>
    public const string HeartbeatLost = "LMOE3421";

    /// <summary>Import: DONE.json missing or malformed, or a final/ file's sha256 differs from DONE.json.</summary>
    public const string ResultDigest = "LMOE3430";

    /// <summary>Import: config, tensor names, shapes or dtypes differ from the expected layout, or a tensor is not finite.</summary>
    public const string ResultLayout = "LMOE3431";

    /// <summary>Import: the imported model's logits on the golden probe differ from what the trainer reported.</summary>
    public const string ProbeMismatch = "LMOE3432";

    /// <summary><c>executor.slurm.submit: true</c> but no <c>sbatch</c> on PATH.</summary>
    public const string SlurmClientMissing = "LMOE3433";
}
