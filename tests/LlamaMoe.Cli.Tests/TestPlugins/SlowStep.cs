using LlamaMoe.Pipeline;

namespace LlamaMoe.Cli.Tests.TestPlugins;

public sealed class SlowOptions : StepOptions
{
}

/// <summary>
/// A long-running step for the kill test: the first time it writes a checkpoint into its resume folder, a partial
/// output file, and then waits until it is cancelled or killed; when it finds the checkpoint it finishes at once.
/// </summary>
[PipelineStep("test-cli/slow", typeof(SlowOptions), Description = "Waits forever unless its resume folder has a checkpoint.")]
public sealed class SlowStep : PipelineStep<SlowOptions>
{
    protected override async Task RunAsync(IStepContext context, SlowOptions options, CancellationToken cancellationToken)
    {
        var checkpoint = Path.Combine(context.ResumeDirectory, "checkpoint.txt");
        if (File.Exists(checkpoint))
        {
            await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), "resumed from " + await File.ReadAllTextAsync(checkpoint, cancellationToken), cancellationToken);
            return;
        }

        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "partial.txt"), "half-written", cancellationToken);
        await File.WriteAllTextAsync(checkpoint, "step 1", cancellationToken);
        context.Log.Info("checkpoint written; waiting");
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
