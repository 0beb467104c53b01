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

    /// <inheritdoc />
    public string Usage => "llama-moe schema [--out FILE]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var output = arguments.Option("out");
        arguments.ThrowOnUnused();
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
            Pipeline.Store.AtomicFile.WriteAllText(output, text);
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
