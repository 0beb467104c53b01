namespace LlamaMoe.Pipeline;

/// <summary>Progress of a running step: the CLI shows a live bar on a terminal and throttled lines otherwise.</summary>
public interface IStepProgress : IProgress<StepProgressUpdate>
{
    /// <summary>Reports <paramref name="step"/> of <paramref name="total"/> (0 when unknown) with an optional message and metrics.</summary>
    void Report(long step, long total, string? message = null, IReadOnlyDictionary<string, double>? metrics = null) =>
        Report(new StepProgressUpdate(step, total, message, metrics));
}

/// <summary>One progress update.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Total">Total steps, or 0 when unknown.</param>
/// <param name="Message">A short status message.</param>
/// <param name="Metrics">Named metrics such as loss or tokens/s.</param>
public sealed record StepProgressUpdate(long Step, long Total, string? Message = null, IReadOnlyDictionary<string, double>? Metrics = null);
