namespace LlamaMoe.Pipeline;

/// <summary>
/// The step contract: one pipeline stage's work. A step is exported with <see cref="PipelineStepAttribute"/>,
/// created fresh for every stage it runs, receives its bound options and input artifacts through
/// <see cref="IStepContext"/> and writes its artifact into <see cref="IStepContext.OutputDirectory"/> only.
/// Most steps derive from <see cref="PipelineStep{TOptions}"/> instead of implementing this directly.
/// </summary>
public interface IPipelineStep
{
    /// <summary>
    /// Step-specific checks of already type-checked options, run by <c>llama-moe validate</c> and before any stage runs.
    /// Each problem becomes a located diagnostic (<c>LMOE0055</c>) on the named option key.
    /// </summary>
    IEnumerable<OptionProblem> ValidateOptions(StepOptions options);

    /// <summary>Does the work. Must honour <paramref name="cancellationToken"/> and write only into the output folder.</summary>
    Task RunAsync(IStepContext context, CancellationToken cancellationToken);
}
