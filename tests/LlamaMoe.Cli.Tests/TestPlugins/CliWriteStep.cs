using LlamaMoe.Pipeline;

namespace LlamaMoe.Cli.Tests.TestPlugins;

public sealed class CliWriteOptions : StepOptions
{
    [Option("Text to write.", Required = true)]
    public string Text { get; set; } = string.Empty;
}

/// <summary>A fast producer for the CLI process tests (loaded into the CLI through 'plugins:').</summary>
[PipelineStep("test-cli/write", typeof(CliWriteOptions), Description = "Writes its text.")]
public sealed class CliWriteStep : PipelineStep<CliWriteOptions>
{
    protected override Task RunAsync(IStepContext context, CliWriteOptions options, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), options.Text, cancellationToken);
}
