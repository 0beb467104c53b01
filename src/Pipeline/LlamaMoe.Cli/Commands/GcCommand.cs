using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe gc</c>: removes store objects no given pipeline's lock file refers to, plus leftover temp and resume folders.</summary>
public sealed class GcCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "gc";

    /// <inheritdoc />
    public string Summary => "Remove store artifacts that the given pipelines' lock files no longer reference.";

    /// <inheritdoc />
    public string Usage => "llama-moe gc <pipeline.yaml>... [--store DIR]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        arguments.Required(0, "pipeline file");
        var settings = PipelineCommandSupport.Settings(arguments);
        arguments.ThrowOnUnused();
        var diagnostics = new List<Diagnostic>();
        var definitions = arguments.Positionals.Select(p => PipelineParser.Parse(p, settings, diagnostics)).ToList();
        PipelineCommandSupport.PrintDiagnostics(diagnostics);
        if (definitions.Any(d => d is null))
        {
            return ExitCodes.Failure;
        }

        foreach (var group in definitions.GroupBy(d => d!.StoreDirectory, StringComparer.Ordinal))
        {
            PipelineCommandSupport.EnsureWritableStore(group.Key, settings.StoreOverride is null ? "store" : "--store");
            var live = group.SelectMany(d => LockFile.Read(d!.LockFilePath).Stages.Values.Select(s => s.OutputDigest)).ToHashSet(StringComparer.Ordinal);
            var store = new ArtifactStore(group.Key);
            using (store.AcquireLock())
            {
                var removed = store.CollectGarbage(live);
                Console.WriteLine(TerminalText.Escape($"{group.Key}: removed {removed} unreferenced artifact(s), kept {live.Count}"));
            }
        }

        return ExitCodes.Success;
    }
}
