using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>Where a <c>train</c> stage runs.</summary>
public enum TrainExecutorKind
{
    /// <summary>In process, TorchSharp, one device (the default).</summary>
    Local,

    /// <summary>A job bundle run by <c>torchrun</c> on this machine as a child process group.</summary>
    Torchrun,

    /// <summary>A job bundle submitted to Slurm (<c>sbatch launch/slurm.sbatch</c>).</summary>
    Slurm,

    /// <summary>A job bundle for Kubeflow Trainer (<c>kubectl apply -f launch/trainjob.yaml</c>).</summary>
    Kubernetes,

    /// <summary>Write the job bundle only; launch it by hand and rerun to import.</summary>
    BundleOnly,
}

/// <summary>How an external run shards the model and optimizer state.</summary>
public enum TrainSharding
{
    /// <summary>PyTorch FSDP2 through accelerate (default).</summary>
    Fsdp2,

    /// <summary>DeepSpeed ZeRO-1 (optimizer state sharded; the paper's recipe).</summary>
    Zero1,

    /// <summary>DeepSpeed ZeRO-2 (optimizer state and gradients sharded).</summary>
    Zero2,

    /// <summary>DeepSpeed ZeRO-3 (everything sharded).</summary>
    Zero3,
}

/// <summary>Which Python model classes an external run uses.</summary>
public enum TrainModeling
{
    /// <summary>Stock transformers classes (Mixtral, Qwen2-MoE) where they are exact; refused for models they cannot express.</summary>
    Stock,

    /// <summary>Our own <c>llamamoe</c> package (any variant, scale kept as a scalar, cv2 balance loss).</summary>
    Llamamoe,
}

/// <summary>What Ctrl+C does to an external job.</summary>
public enum TrainOnCancel
{
    /// <summary>Stop the job (SIGTERM to the process group, scancel, delete the TrainJob).</summary>
    Cancel,

    /// <summary>Leave it running; the next run of the stage re-attaches.</summary>
    Detach,
}

/// <summary>
/// The <c>executor:</c> block of the <c>train</c> steps. Training options mean the same for every executor; only the
/// executor identity (kind family, sharding, modeling, pins) enters the stage key — topology and cluster settings are launch-only.
/// </summary>
public sealed class TrainExecutorOptions
{
    /// <summary>The default package pins written to constraints.txt.</summary>
    public static IReadOnlyDictionary<string, string> DefaultPins { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["torch"] = ">=2.9",
        ["transformers"] = ">=5.2,<6",
        ["accelerate"] = ">=1.10",
        ["safetensors"] = ">=0.6",
    };

    /// <summary>Executor kind.</summary>
    [Option("Where the stage trains: local (TorchSharp, default), torchrun, slurm, kubernetes or bundle-only.")]
    public TrainExecutorKind Kind { get; set; } = TrainExecutorKind.Local;

    /// <summary>Nodes.</summary>
    [Option("Nodes (launch-only: not part of the stage key).", Minimum = 1, Maximum = 4096, Key = OptionKeyUse.Never)]
    public int Nodes { get; set; } = 1;

    /// <summary>GPUs per node.</summary>
    [Option("GPUs (processes) per node (launch-only).", Minimum = 1, Maximum = 64, Key = OptionKeyUse.Never)]
    public int GpusPerNode { get; set; } = 1;

    /// <summary>Rows per GPU per forward.</summary>
    [Option("Rows per GPU per forward (launch-only; default: the largest divisor of batch-size · grad-accum / world size up to batch-size).", Minimum = 1, Maximum = 65536, Key = OptionKeyUse.Never)]
    public int? MicroBatch { get; set; }

    /// <summary>Sharding.</summary>
    [Option("Sharding of an external run: fsdp2 (default), zero1, zero2 or zero3 (DeepSpeed; needs a deepspeed pin).")]
    public TrainSharding Sharding { get; set; } = TrainSharding.Fsdp2;

    /// <summary>Model classes.</summary>
    [Option("Python model classes: stock (Mixtral/Qwen2-MoE, default) or llamamoe (our package; any variant).")]
    public TrainModeling Modeling { get; set; } = TrainModeling.Stock;

    /// <summary>Ctrl+C behaviour.</summary>
    [Option("On Ctrl+C: cancel the job (default) or detach from it (launch-only).", Key = OptionKeyUse.Never)]
    public TrainOnCancel OnCancel { get; set; } = TrainOnCancel.Cancel;

    /// <summary>Relaunches after preemption or a lost heartbeat.</summary>
    [Option("Relaunches after a preemption, crash or lost heartbeat; each resumes from the newest complete checkpoint (launch-only).", Minimum = 0, Maximum = 100, Key = OptionKeyUse.Never)]
    public int Retries { get; set; } = 3;

    /// <summary>Python package pins.</summary>
    [Option("Package pins written to constraints.txt (name: specifier); default torch, transformers, accelerate, safetensors. ZeRO needs deepspeed.")]
    public Dictionary<string, string> Pins { get; set; } = new(DefaultPins, StringComparer.Ordinal);

    /// <summary>Bundle and output locations.</summary>
    [Option("Where bundles and results live: { bundle-uri, output-uri } (shared filesystem paths; launch-only).", Key = OptionKeyUse.Never)]
    public TrainStorageOptions Storage { get; set; } = new();

    /// <summary>Slurm settings.</summary>
    [Option("Slurm settings: { partition, account, time, qos, constraint } (launch-only).", Key = OptionKeyUse.Never)]
    public TrainSlurmOptions Slurm { get; set; } = new();

    /// <summary>Kubernetes settings.</summary>
    [Option("Kubernetes settings: { image, namespace, runtime, volume-claim, mount-path } (launch-only).", Key = OptionKeyUse.Never)]
    public TrainKubernetesOptions Kubernetes { get; set; } = new();

    /// <summary>Processes in the whole job.</summary>
    public int WorldSize => checked(Nodes * GpusPerNode);

    /// <summary>True for the executors that write a bundle.</summary>
    public bool IsExternal => Kind != TrainExecutorKind.Local;

    /// <summary>True for the DeepSpeed shardings.</summary>
    public bool UsesDeepSpeed => Sharding != TrainSharding.Fsdp2;
}

/// <summary>The <c>executor.storage</c> block.</summary>
public sealed class TrainStorageOptions
{
    /// <summary>Bundle root.</summary>
    [Option("Folder (on a filesystem the cluster mounts) where bundles are written (default: the stage's store folder).", Path = OptionPathKind.Other)]
    public string? BundleUri { get; set; }

    /// <summary>Output root.</summary>
    [Option("Folder the trainer writes run-<key12>/ into (default: the stage's resume folder).", Path = OptionPathKind.Other)]
    public string? OutputUri { get; set; }
}

/// <summary>The <c>executor.slurm</c> block.</summary>
public sealed class TrainSlurmOptions
{
    /// <summary>Partition.</summary>
    [Option("Partition (sbatch --partition).")]
    public string? Partition { get; set; }

    /// <summary>Account.</summary>
    [Option("Account (sbatch --account).")]
    public string? Account { get; set; }

    /// <summary>Time limit.</summary>
    [Option("Time limit (sbatch --time), e.g. 12:00:00.")]
    public string Time { get; set; } = "24:00:00";

    /// <summary>QOS.</summary>
    [Option("Quality of service (sbatch --qos).")]
    public string? Qos { get; set; }

    /// <summary>Node features.</summary>
    [Option("Node feature constraint (sbatch --constraint).")]
    public string? Constraint { get; set; }

    /// <summary>Whether the stage submits the job itself: null (default) when sbatch is found, true always, false never.</summary>
    [Option("Submit with sbatch and follow the job (true), or only write the bundle and stop with LMOE3400 (false); default: submit when sbatch is on PATH.")]
    public bool? Submit { get; set; }

    /// <summary>Extra sbatch arguments.</summary>
    [Option("Extra sbatch arguments placed before the script (e.g. [\"--mem=480G\", \"--exclusive\"]); they override the script's #SBATCH lines.")]
    public List<string> SbatchArgs { get; set; } = [];

    /// <summary>Seconds between two readings of the job state and the run folder.</summary>
    [Option("Seconds between two readings of the job state and the run folder while following a submitted job.", Minimum = 0.1, Maximum = 3600)]
    public double PollSeconds { get; set; } = 10;
}

/// <summary>The <c>executor.kubernetes</c> block.</summary>
public sealed class TrainKubernetesOptions
{
    /// <summary>Container image.</summary>
    [Option("Container image with PyTorch, transformers and accelerate.")]
    public string Image { get; set; } = "pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime";

    /// <summary>Namespace.</summary>
    [Option("Namespace of the TrainJob/PyTorchJob.")]
    public string Namespace { get; set; } = "default";

    /// <summary>Training runtime.</summary>
    [Option("Kubeflow Trainer runtime (ClusterTrainingRuntime name).")]
    public string Runtime { get; set; } = "torch-distributed";

    /// <summary>Volume claim holding bundle and output.</summary>
    [Option("PersistentVolumeClaim that holds the bundle and output folders.")]
    public string VolumeClaim { get; set; } = "llamamoe-work";

    /// <summary>Mount path of that claim.</summary>
    [Option("Where the claim is mounted in the pods: they read the bundle from <mount-path>/bundles/bundle-<key12> and write to <mount-path>/output.")]
    public string MountPath { get; set; } = "/work";
}
