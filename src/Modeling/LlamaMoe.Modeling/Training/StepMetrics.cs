namespace LlamaMoe.Modeling.Training;

/// <summary>What one optimizer step measured (one line of metrics.jsonl).</summary>
/// <param name="Step">The 1-based step.</param>
/// <param name="Loss">The optimised loss: LM loss (with distillation, (1 − w)·LM + w·KD) plus the weighted router terms.</param>
/// <param name="LmLoss">Token-weighted mean cross-entropy over the step's targets.</param>
/// <param name="BalanceLoss">The balance loss before its coefficient (mean over micro-batches), or 0.</param>
/// <param name="ZLoss">The router z-loss before its coefficient (mean over micro-batches), or 0.</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="GradNorm">The global gradient norm before clipping.</param>
/// <param name="Tokens">Non-padding tokens processed in the step.</param>
/// <param name="TokensPerSecond">Throughput of the step.</param>
/// <param name="ElapsedSeconds">Training time since the run started (including time before a resume).</param>
/// <param name="Epoch">The data epoch after the step.</param>
/// <param name="Routing">Per routed layer, the routing statistics of the step.</param>
/// <param name="DistillLoss">With distillation, <c>T²·KL(teacher ‖ student)</c> per supervised token (before the weight); otherwise null.</param>
public sealed record StepMetrics(
    int Step,
    double Loss,
    double LmLoss,
    double BalanceLoss,
    double ZLoss,
    double LearningRate,
    double GradNorm,
    long Tokens,
    double TokensPerSecond,
    double ElapsedSeconds,
    int Epoch,
    IReadOnlyList<LayerRoutingStatistics> Routing,
    double? DistillLoss = null);

/// <summary>Progress of a run, reported after every step (the pipeline shows it in the console).</summary>
/// <param name="Metrics">The step's metrics.</param>
/// <param name="TotalSteps">The run's total steps.</param>
/// <param name="Eta">Estimated time to the end, from this invocation's mean step time.</param>
public sealed record TrainingProgress(StepMetrics Metrics, int TotalSteps, TimeSpan Eta)
{
    /// <summary>The step just finished.</summary>
    public int Step => Metrics.Step;

    /// <summary>The optimised loss.</summary>
    public double Loss => Metrics.Loss;

    /// <summary>The learning rate used.</summary>
    public double LearningRate => Metrics.LearningRate;

    /// <summary>Non-padding tokens per second.</summary>
    public double TokensPerSecond => Metrics.TokensPerSecond;
}

/// <summary>The outcome of <see cref="Trainer.Train"/>.</summary>
/// <param name="StartStep">Steps already done when this invocation started (0, or the resumed checkpoint's step).</param>
/// <param name="FinalStep">Steps done when it returned.</param>
/// <param name="Completed">True when <see cref="TrainerOptions.MaxSteps"/> was reached; false when cancelled.</param>
/// <param name="LastCheckpoint">The newest complete checkpoint folder.</param>
/// <param name="Steps">The metrics of the steps run in this invocation.</param>
/// <param name="MetricsPath">The metrics log of the whole run (<c>metrics.jsonl</c>), from which callers draw the loss curve.</param>
public sealed record TrainingResult(int StartStep, int FinalStep, bool Completed, string? LastCheckpoint, IReadOnlyList<StepMetrics> Steps, string MetricsPath);

/// <summary>The rows a run trains on.</summary>
/// <param name="Rows">Packed or padded rows (see <see cref="Data.SequencePacker"/>).</param>
/// <param name="Packed">Whether the rows are packed (document-aware attention and per-document positions).</param>
public sealed record TrainingData(IReadOnlyList<Data.PackedRow> Rows, bool Packed);
