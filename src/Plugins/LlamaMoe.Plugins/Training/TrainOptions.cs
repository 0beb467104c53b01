using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Training.External;

namespace LlamaMoe.Plugins.Training;

/// <summary>The arithmetic of a training run.</summary>
public enum TrainPrecision
{
    /// <summary>Everything in float32.</summary>
    Float32,

    /// <summary>bfloat16 forward/backward with float32 master weights.</summary>
    Bfloat16,

    /// <summary>float32, with TensorFloat-32 matmuls on CUDA (same as float32 on the CPU).</summary>
    Tf32,
}

/// <summary>The router balance loss.</summary>
public enum TrainBalanceLoss
{
    /// <summary>No balance loss.</summary>
    None,

    /// <summary>Switch/Mixtral load balancing.</summary>
    Switch,

    /// <summary>LLaMA-MoE v1: CV² of importance plus CV² of load.</summary>
    Cv2,
}

/// <summary>A parameter group that may train.</summary>
public enum TrainableGroup
{
    /// <summary>Every parameter.</summary>
    All,

    /// <summary>Router (gate) weights.</summary>
    Router,

    /// <summary>Expert (and dense MLP) weights.</summary>
    Experts,

    /// <summary>Attention projections.</summary>
    Attention,

    /// <summary>Token embeddings and the output head.</summary>
    Embeddings,

    /// <summary>Normalisation weights.</summary>
    Norms,

    /// <summary>Everything else.</summary>
    Other,
}

/// <summary>Options of the <c>train</c> and <c>train-dense</c> steps (SFT stage 1/2 and continual pre-training).</summary>
public sealed class TrainOptions : StepOptions
{
    /// <summary>The data sources.</summary>
    [Option("Data sources: each { path, format, weight, chat-template, first, count }.", Required = true)]
    public List<TrainDataSource> Sources { get; set; } = [];

    /// <summary>Mixture size.</summary>
    [Option("Examples in the mixture (default: the sum of the sources' sizes).", Minimum = 1)]
    public int? TotalExamples { get; set; }

    /// <summary>Row length in tokens.</summary>
    [Option("Row length in tokens.", Minimum = 2, Maximum = 131072)]
    public int SeqLen { get; set; } = 256;

    /// <summary>Whether examples are packed into rows.</summary>
    [Option("Pack several examples per row (document-aware attention); otherwise one padded example per row.")]
    public bool Pack { get; set; } = true;

    /// <summary>Rows per micro-batch.</summary>
    [Option("Rows per micro-batch.", Minimum = 1, Maximum = 65536)]
    public int BatchSize { get; set; } = 8;

    /// <summary>Micro-batches per optimizer step.</summary>
    [Option("Micro-batches per optimizer step.", Minimum = 1, Maximum = 65536)]
    public int GradAccum { get; set; } = 1;

    /// <summary>Peak learning rate.</summary>
    [Option("Peak learning rate.", Minimum = 1e-12, Maximum = 1)]
    public double Lr { get; set; } = 1e-3;

    /// <summary>Final learning rate as a fraction of the peak.</summary>
    [Option("The cosine decay ends at lr · min-lr-ratio.", Minimum = 0, Maximum = 1)]
    public double MinLrRatio { get; set; } = 0.1;

    /// <summary>Warmup steps.</summary>
    [Option("Linear warmup steps (default: 3% of the run).", Minimum = 0)]
    public int? Warmup { get; set; }

    /// <summary>Optimizer steps.</summary>
    [Option("Optimizer steps (give this or 'epochs').", Minimum = 1)]
    public int? MaxSteps { get; set; }

    /// <summary>Passes over the rows.</summary>
    [Option("Passes over the packed rows (give this or 'max-steps').", Minimum = 0.001)]
    public double? Epochs { get; set; }

    /// <summary>Decoupled weight decay.</summary>
    [Option("Decoupled weight decay of matrices.", Minimum = 0, Maximum = 10)]
    public double WeightDecay { get; set; }

    /// <summary>Gradient clipping.</summary>
    [Option("Global gradient-norm clipping threshold (0: off).", Minimum = 0)]
    public double Clip { get; set; } = 1.0;

    /// <summary>Arithmetic.</summary>
    [Option("Arithmetic: float32, bfloat16 (float32 masters) or tf32 (float32 with TensorFloat-32 matmuls on CUDA).")]
    public TrainPrecision Precision { get; set; } = TrainPrecision.Float32;

    /// <summary>Router balance loss.</summary>
    [Option("Router balance loss: none, switch or cv2.")]
    public TrainBalanceLoss BalanceLoss { get; set; } = TrainBalanceLoss.None;

    /// <summary>Balance loss coefficient.</summary>
    [Option("Balance loss coefficient.", Minimum = 0)]
    public double BalanceCoef { get; set; } = 0.01;

    /// <summary>Router z-loss coefficient.</summary>
    [Option("Router z-loss coefficient (0: off).", Minimum = 0)]
    public double ZLoss { get; set; }

    /// <summary>Freeze the routers.</summary>
    [Option("Keep the routers frozen.")]
    public bool FreezeRouters { get; set; }

    /// <summary>Trainable groups.</summary>
    [Option("Parameter groups that train (default: all): all, router, experts, attention, embeddings, norms, other.")]
    public List<TrainableGroup> Trainable { get; set; } = [TrainableGroup.All];

    /// <summary>Checkpoint interval.</summary>
    [Option("Write a resume checkpoint every this many steps (0: only at the end or on interruption).", Minimum = 0)]
    public int CheckpointEvery { get; set; } = 50;

    /// <summary>The data-order seed.</summary>
    [Option("Seed of the data mixture and order (default: the pipeline seed).", Minimum = 0)]
    public int? Seed { get; set; }

    /// <summary>Where the stage trains (default: in process).</summary>
    [Option("Where the stage trains: { kind: local|torchrun|slurm|kubernetes|bundle-only, nodes, gpus-per-node, micro-batch, sharding, modeling, on-cancel, retries, pins, storage, slurm, kubernetes } (default: local).", Key = OptionKeyUse.WhenSet)]
    public TrainExecutorOptions? Executor { get; set; }

    // Distillation (issue 14): kept as one block for easy merging with other option additions.

    /// <summary>Distillation from a teacher model (null: plain LM loss).</summary>
    [Option("Distil from a teacher: { teacher: <stage in needs or model folder>, weight: 0.5, temperature: 1.0, chunk: 1024 }.")]
    public DistillOptions? Distill { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> ValidateNeeds(IReadOnlySet<string> needs)
    {
        if (Distill is { TeacherIsStage: true } distill && !needs.Contains(distill.Teacher))
        {
            yield return new OptionProblem("distill.teacher", $"the teacher stage '{distill.Teacher}' is not in this stage's needs",
                $"Add '{distill.Teacher}' to 'needs' (the teacher is loaded from that stage's artifact), or give a model folder path containing '/'.",
                Code: Common.PluginErrorCodes.DistillTeacher);
        }
    }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Sources.Count == 0)
        {
            yield return new OptionProblem("sources", "give at least one data source");
        }

        if ((MaxSteps is null) == (Epochs is null))
        {
            yield return new OptionProblem("max-steps", "give exactly one of 'max-steps' and 'epochs'");
        }

        for (var i = 0; i < Sources.Count; i++)
        {
            if (Sources[i].ChatTemplate is { } name && name is not ("llama2" or "llama3" or "plain"))
            {
                yield return new OptionProblem($"sources[{i}].chat-template", $"unknown chat template '{name}'", "Use llama2, llama3 or plain.");
            }
        }

        if (Trainable.Count == 0)
        {
            yield return new OptionProblem("trainable", "name at least one parameter group");
        }

        foreach (var problem in ExecutorOptionChecks.Problems(this))
        {
            yield return problem;
        }
    }
}
