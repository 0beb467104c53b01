using System.CommandLine;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe clean</c>: deletes what a pipeline built: its artifact store, lock file and artifacts view.</summary>
public sealed class CleanCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "clean";

    /// <inheritdoc />
    public string Summary => "Delete a pipeline's artifact store, lock file and artifacts/NAME folder.";

    private readonly Argument<string> pipelineFile = CliOptions.Argument("pipeline.yaml", "The pipeline file.");
    private readonly PipelineOptions common = new();

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFile, .. common.Symbols];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetRequiredValue(pipelineFile);
        var settings = common.Settings(parse);
        var diagnostics = new List<Diagnostic>();
        var definition = PipelineParser.Parse(path, settings, diagnostics);
        PipelineCommandSupport.PrintDiagnostics(diagnostics);
        if (definition is null)
        {
            return ExitCodes.Failure;
        }

        if (Path.Exists(definition.StoreDirectory))
        {
            // Never delete a folder (or file) that is not a llama-moe store: --store may name any path.
            PipelineCommandSupport.EnsureIsStore(definition.StoreDirectory, settings.StoreOverride is null ? "store" : "--store");
            using (new ArtifactStore(definition.StoreDirectory).AcquireLock())
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(definition.StoreDirectory).Where(e => Path.GetFileName(e) != "store.lock"))
                {
                    if (Directory.Exists(entry))
                    {
                        Directory.Delete(entry, recursive: true);
                    }
                    else
                    {
                        File.Delete(entry);
                    }
                }
            }

            Directory.Delete(definition.StoreDirectory, recursive: true);
        }

        if (Directory.Exists(definition.ArtifactsViewDirectory))
        {
            Directory.Delete(definition.ArtifactsViewDirectory, recursive: true);
        }

        File.Delete(definition.LockFilePath);
        Console.WriteLine(TerminalText.Escape($"removed {definition.StoreDirectory}, {definition.ArtifactsViewDirectory} and {definition.LockFilePath}"));
        return ExitCodes.Success;
    }
}
