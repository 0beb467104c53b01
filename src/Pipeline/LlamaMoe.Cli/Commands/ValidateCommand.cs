using System.CommandLine;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe validate</c>: reports every problem in a pipeline at once.</summary>
public sealed class ValidateCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "validate";

    /// <inheritdoc />
    public string Summary => "Check a pipeline file and report every problem at once.";

    private readonly Argument<string> pipelineFile = CliOptions.Argument("pipeline.yaml", "The pipeline file.");
    private readonly PipelineOptions common = new();

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFile, .. common.Symbols];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetRequiredValue(pipelineFile);
        var settings = common.Settings(parse);
        var result = PipelineLoader.Load(path, settings);
        var missingInputs = result.Diagnostics.Where(d => d.Code == DiagnosticCodes.InputPathMissing).ToList();
        if (result.Pipeline is null && missingInputs.Count == result.Diagnostics.Count)
        {
            // Only missing input paths (a model or data set on another machine): the file itself is valid; 'run' checks them again.
            result = PipelineLoader.Load(path, settings with { InputPathsMayBeMissing = true });
            foreach (var missing in missingInputs)
            {
                Console.Error.WriteLine(missing.ToString().Replace(": error LMOE", ": warning LMOE", StringComparison.Ordinal) + " (it must exist when the stage runs)");
            }
        }
        else
        {
            PipelineCommandSupport.PrintDiagnostics(result.Diagnostics);
        }

        if (result.Pipeline is null)
        {
            Console.Error.WriteLine($"{path}: {result.Diagnostics.Count} problem(s).");
            return ExitCodes.Failure;
        }

        Console.WriteLine(TerminalText.Escape($"{path}: valid ({result.Pipeline.Stages.Count} stages: {string.Join(" -> ", result.Pipeline.Stages.Select(s => s.Id))})."));
        return ExitCodes.Success;
    }
}
