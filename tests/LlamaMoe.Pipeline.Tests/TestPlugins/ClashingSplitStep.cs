namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public sealed class ClashingOptions : StepOptions
{
}

/// <summary>Exports the sample plugin's name on purpose, for the duplicate-name test.</summary>
[PipelineStep("split-mlp/magnitude", typeof(ClashingOptions), Description = "Clashes with the sample plugin.")]
public sealed class ClashingSplitStep : PipelineStep<ClashingOptions>
{
    protected override Task RunAsync(IStepContext context, ClashingOptions options, CancellationToken cancellationToken) => Task.CompletedTask;
}
