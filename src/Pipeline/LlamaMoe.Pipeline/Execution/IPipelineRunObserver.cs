namespace LlamaMoe.Pipeline.Execution;

/// <summary>Receives what a run does, for the CLI's progress display and logs.</summary>
public interface IPipelineRunObserver
{
    /// <summary>A stage starts running (it was stale for <paramref name="reasons"/>).</summary>
    void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons);

    /// <summary>A running stage reports progress.</summary>
    void StageProgress(string stageId, StepProgressUpdate update);

    /// <summary>A running stage logs a line.</summary>
    void StageLog(string stageId, bool warning, string message);

    /// <summary>A stage finished, was up to date, or was not requested.</summary>
    void StageFinished(StageOutcome outcome);
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullRunObserver : IPipelineRunObserver
{
    /// <inheritdoc />
    public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
    {
    }

    /// <inheritdoc />
    public void StageProgress(string stageId, StepProgressUpdate update)
    {
    }

    /// <inheritdoc />
    public void StageLog(string stageId, bool warning, string message)
    {
    }

    /// <inheritdoc />
    public void StageFinished(StageOutcome outcome)
    {
    }
}

/// <summary>What happened to a stage.</summary>
public enum StageStatus
{
    /// <summary>The step ran and published its artifact.</summary>
    Ran,

    /// <summary>Its key was in the store; nothing ran.</summary>
    UpToDate,

    /// <summary>Excluded by <c>--until</c>.</summary>
    NotRequested,
}

/// <summary>A stage's result in a run.</summary>
/// <param name="StageId">The stage.</param>
/// <param name="Status">What happened.</param>
/// <param name="Key">The stage key (null when not requested).</param>
/// <param name="OutputDigest">The artifact digest (null when not requested).</param>
/// <param name="OutputChanged">For a stage that ran: whether its digest differs from the previous run's.</param>
/// <param name="Reasons">Why it ran.</param>
/// <param name="Elapsed">Time spent.</param>
/// <param name="Device">What the step computed on when it made the artifact (<see cref="IStepContext.ReportDevice"/>); null when it reported nothing.</param>
public sealed record StageOutcome(string StageId, StageStatus Status, string? Key, string? OutputDigest, bool OutputChanged, IReadOnlyList<string> Reasons, TimeSpan Elapsed, string? Device = null);
