namespace LlamaMoe.Modeling.Training;

/// <summary>The non-tensor state of a resume checkpoint (<c>state.json</c>).</summary>
/// <param name="Step">Optimizer steps completed.</param>
/// <param name="Epoch">The data cursor's epoch.</param>
/// <param name="Position">The data cursor's position in the epoch.</param>
/// <param name="Seed">The data seed of the run.</param>
/// <param name="MaxSteps">The run's total steps (the schedule depends on it).</param>
/// <param name="DatasetFingerprint">SHA-256 of the training rows, so a resume on different data is refused.</param>
/// <param name="TokensSeen">Non-padding tokens processed so far.</param>
/// <param name="ElapsedSeconds">Training time so far.</param>
/// <param name="TorchRngState">Base64 of the torch CPU generator state (noise, dropout).</param>
public sealed record TrainerState(
    int Step,
    int Epoch,
    int Position,
    long Seed,
    int MaxSteps,
    string DatasetFingerprint,
    long TokensSeen,
    double ElapsedSeconds,
    string TorchRngState);
