namespace LlamaMoe.Pipeline;

/// <summary>A convenient base for steps with a typed options class.</summary>
/// <typeparam name="TOptions">The options class named in the step's <see cref="PipelineStepAttribute.OptionsType"/>.</typeparam>
public abstract class PipelineStep<TOptions> : IPipelineStep
    where TOptions : StepOptions
{
    /// <inheritdoc />
    public IEnumerable<OptionProblem> ValidateOptions(StepOptions options) => Validate((TOptions)options);

    /// <inheritdoc />
    public Task RunAsync(IStepContext context, CancellationToken cancellationToken) =>
        RunAsync(context, context.GetOptions<TOptions>(), cancellationToken);

    /// <summary>Step-specific validation; the default runs <see cref="StepOptions.Validate"/>.</summary>
    protected virtual IEnumerable<OptionProblem> Validate(TOptions options) => options.Validate();

    /// <summary>Does the work with typed options.</summary>
    protected abstract Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken);
}
