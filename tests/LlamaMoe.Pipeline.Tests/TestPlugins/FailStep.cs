namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public sealed class FailOptions : StepOptions
{
}

/// <summary>Writes a partial file then throws.</summary>
[PipelineStep("test/fail", typeof(FailOptions), Description = "Always fails after writing a partial file.")]
public sealed class FailStep : PipelineStep<FailOptions>
{
    protected override async Task RunAsync(IStepContext context, FailOptions options, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "partial.txt"), "half", cancellationToken);
        throw new InvalidOperationException("boom");
    }
}
