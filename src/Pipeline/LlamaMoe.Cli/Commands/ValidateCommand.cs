using LlamaMoe.Pipeline.Execution;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe validate</c>: reports every problem in a pipeline at once.</summary>
public sealed class ValidateCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "validate";

    /// <inheritdoc />
    public string Summary => "Check a pipeline file and report every problem at once.";

    /// <inheritdoc />
    public string Usage => $"llama-moe validate <pipeline.yaml> {PipelineCommandSupport.CommonUsage}";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var path = arguments.Required(0, "pipeline file");
        var settings = PipelineCommandSupport.Settings(arguments);
        arguments.ThrowOnUnused();
        var result = PipelineLoader.Load(path, settings);
        PipelineCommandSupport.PrintDiagnostics(result.Diagnostics);
        if (result.Pipeline is null)
        {
            Console.Error.WriteLine($"{path}: {result.Diagnostics.Count} problem(s).");
            return ExitCodes.Failure;
        }

        Console.WriteLine($"{path}: valid ({result.Pipeline.Stages.Count} stages: {string.Join(" -> ", result.Pipeline.Stages.Select(s => s.Id))}).");
        return ExitCodes.Success;
    }
}
