using System.CommandLine;
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

    private readonly Argument<string[]> pipelineFiles = new("pipeline.yaml") { Description = "The pipelines whose lock files say what to keep.", Arity = ArgumentArity.OneOrMore };
    private readonly PipelineOptions common = new();

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFiles, .. common.Symbols];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var settings = common.Settings(parse);
        var diagnostics = new List<Diagnostic>();
        var definitions = parse.GetRequiredValue(pipelineFiles).Select(p => PipelineParser.Parse(p, settings, diagnostics)).ToList();
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
