namespace LlamaMoe.Modeling.Training;

/// <summary>The router balance loss added to the language-model loss.</summary>
public enum BalanceLossKind
{
    /// <summary>No balance loss (LLaMA-MoE v2 SFT as trained).</summary>
    None,

    /// <summary>Switch/Mixtral: <c>E · Σ_e f_e · P_e</c> per layer, averaged over layers (1.0 when perfectly balanced).</summary>
    Switch,

    /// <summary>LLaMA-MoE v1: <c>CV²(importance) + CV²(load)</c> per layer, summed over layers.</summary>
    CvSquared,

    /// <summary>v2's shipped Mixtral formula, for parity only: it always equals E and has no gradient (spec 3.3).</summary>
    MixtralV2Parity,
}

/// <summary>The arithmetic of forward and backward passes.</summary>
public enum ComputePrecision
{
    /// <summary>Everything in float32.</summary>
    Float32,

    /// <summary>
    /// The model's floating parameters and buffers are held as a bfloat16 working copy used for forward and backward;
    /// float32 master copies are what AdamW updates (gradients are cast to float32 before clipping and the update,
    /// and the updated masters are cast back into the working copy); logits and router logits are cast to float32
    /// before the losses. Checkpoints hold the float32 masters, and after training the model is float32 again.
    /// </summary>
    BFloat16,

    /// <summary>
    /// float32 weights and arithmetic, but CUDA matmuls may use TensorFloat-32 (10-bit mantissa inputs, float32
    /// accumulation) for the length of the run. Identical to <see cref="Float32"/> on the CPU.
    /// </summary>
    TensorFloat32,
}

/// <summary>Options of one training run (SFT stage or continual pre-training).</summary>
public sealed record TrainerOptions
{
    /// <summary>The folder of metrics.jsonl and the resume checkpoints (<c>checkpoints/step-N</c>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Total optimizer steps of the run (including steps done before a resume).</summary>
    public required int MaxSteps { get; init; }

    /// <summary>Rows per micro-batch.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Micro-batches per optimizer step; the loss is the token-weighted mean over all of them.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 2e-5;

    /// <summary>The cosine decay ends at <c>LearningRate · MinLearningRateRatio</c> (v1 CPT: 0.1, v2 SFT: 0).</summary>
    public double MinLearningRateRatio { get; init; }

    /// <summary>Linear warmup steps; when null, <see cref="WarmupRatio"/> of <see cref="MaxSteps"/> (rounded up).</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Warmup as a fraction of the run, used when <see cref="WarmupSteps"/> is null (v2: 0.03).</summary>
    public double WarmupRatio { get; init; } = 0.03;

    /// <summary>Decoupled weight decay for matrices (never norms, biases or vectors).</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Global gradient-norm clipping threshold; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Forward/backward arithmetic.</summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Float32;

    /// <summary>The router balance loss.</summary>
    public BalanceLossKind BalanceLoss { get; init; } = BalanceLossKind.None;

    /// <summary>Coefficient of the balance loss (v1: 0.01).</summary>
    public double BalanceLossCoefficient { get; init; } = 0.01;

    /// <summary>Coefficient of the router z-loss (mean squared log-sum-exp of router logits, averaged over layers); 0 = off.</summary>
    public double RouterZLossCoefficient { get; init; }

    /// <summary>k used to select experts for the losses and statistics when a block records logits but not its selection.</summary>
    public int FallbackTopK { get; init; } = 2;

    /// <summary>Parameter groups that train; all others are frozen.</summary>
    public ParameterGroup Trainable { get; init; } = ParameterGroup.All;

    /// <summary>Shorthand that removes <see cref="ParameterGroup.Router"/> from <see cref="Trainable"/> (v1 SFT, v2 DPO).</summary>
    public bool FreezeRouters { get; init; }

    /// <summary>Seed of the data order.</summary>
    public long Seed { get; init; } = 1227;

    /// <summary>Whether each epoch visits the rows in a new shuffled order (otherwise in dataset order).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Write a resume checkpoint every this many steps (0: only at the end and on cancellation).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>How many complete checkpoints to keep (at least 1).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Distil from a teacher model given to the <see cref="Trainer"/> (null: plain LM loss).</summary>
    public DistillationSettings? Distillation { get; init; }

    /// <summary>Continue from the latest complete checkpoint in the output folder when there is one.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>The parameter groups that actually train.</summary>
    public ParameterGroup EffectiveTrainable => FreezeRouters ? Trainable & ~ParameterGroup.Router : Trainable;

    /// <summary>The warmup length in steps.</summary>
    public int EffectiveWarmupSteps => WarmupSteps ?? (int)Math.Ceiling(WarmupRatio * MaxSteps);

    /// <summary>Throws LMOE3101 for the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string key, string detail)
        {
            if (!ok)
            {
                throw TrainingErrors.BadOption(key, detail);
            }
        }

        Check(MaxSteps > 0, "max_steps", "max_steps must be positive");
        Check(BatchSize > 0, "batch_size", "batch_size must be positive");
        Check(GradientAccumulationSteps > 0, "gradient_accumulation_steps", "gradient_accumulation_steps must be positive");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), "learning_rate", "learning_rate must be a positive number");
        Check(MinLearningRateRatio is >= 0 and <= 1, "min_lr_ratio", "min_lr_ratio must be in [0, 1]");
        Check(WarmupSteps is null or >= 0, "warmup_steps", "warmup_steps must not be negative");
        Check(WarmupRatio is >= 0 and <= 1, "warmup_ratio", "warmup_ratio must be in [0, 1]");
        Check(WeightDecay >= 0, "weight_decay", "weight_decay must not be negative");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "betas", "AdamW betas must be in [0, 1)");
        Check(Epsilon > 0, "eps", "eps must be positive");
        Check(MaxGradNorm >= 0, "max_grad_norm", "max_grad_norm must not be negative");
        Check(BalanceLossCoefficient >= 0 && RouterZLossCoefficient >= 0, "aux_loss_coef", "loss coefficients must not be negative");
        Check(FallbackTopK > 0, "top_k", "top_k must be positive");
        Check(CheckpointEvery >= 0, "checkpoint_every", "checkpoint_every must not be negative");
        Check(KeepCheckpoints >= 1, "keep_checkpoints", "keep_checkpoints must be at least 1");
        Check(Distillation is null || (Distillation.Weight is >= 0 and <= 1), "distill.weight", "the distillation weight must be in [0, 1]");
        Check(Distillation is null || (Distillation.Temperature > 0 && double.IsFinite(Distillation.Temperature)), "distill.temperature", "the distillation temperature must be a positive number");
        Check(Distillation is null || Distillation.ChunkPositions >= 1, "distill.chunk", "the distillation chunk must hold at least one position");
        Check(!string.IsNullOrWhiteSpace(OutputDirectory), "output", "an output folder is required");
    }
}
