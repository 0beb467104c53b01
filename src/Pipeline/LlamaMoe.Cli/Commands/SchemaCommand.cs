using System.CommandLine;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Plugins;
using LlamaMoe.Pipeline.Schema;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe schema</c>: writes the pipeline JSON Schema generated from the built-in plugins.</summary>
public sealed class SchemaCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "schema";

    /// <inheritdoc />
    public string Summary => "Write the pipeline JSON Schema generated from the built-in plugins (schema/pipeline.schema.json).";

    private readonly Option<string> outFile = CliOptions.Path("--out", "Write the schema to FILE instead of stdout.", "FILE");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [outFile];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var output = parse.GetValue(outFile);
        var text = BuiltInSchema(out var diagnostics);
        PipelineCommandSupport.PrintDiagnostics(diagnostics);
        if (diagnostics.Count > 0)
        {
            return ExitCodes.Failure;
        }

        if (output is null)
        {
            Console.Write(text);
        }
        else
        {
            AtomicFile.WriteAllText(output, text);
            Console.WriteLine(TerminalText.Escape($"wrote {output}"));
        }

        return ExitCodes.Success;
    }

    /// <summary>The schema of the built-in plugins (those beside this executable).</summary>
    public static string BuiltInSchema(out List<Diagnostic> diagnostics)
    {
        diagnostics = [];
        var catalog = PluginCatalog.Create(PluginCatalog.BuiltInAssemblies().Select(a => (a, (SourceLocation?)null)), diagnostics);
        return PipelineSchemaGenerator.Generate(catalog.Steps.Values);
    }
}
