using System.CommandLine;
using System.Reflection;
using System.Text.Json;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Options;
using LlamaMoe.Pipeline.Plugins;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe plugins</c>: lists the steps (built-in, plus those a pipeline's <c>plugins:</c> or <c>--plugins</c> adds) with their options.</summary>
public sealed class PluginsCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "plugins";

    /// <inheritdoc />
    public string Summary => "List plugins: names, descriptions, artifacts and options.";

    private readonly Argument<string?> pipelineFile = new("pipeline.yaml") { Description = "Also list the plugins this pipeline's plugins: key loads.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string[]> plugins = CliOptions.Repeated("--plugins", "A plugin assembly or folder to add (repeatable).", "PATH");
    private readonly Option<bool> asJson = CliOptions.Flag("--json", "Print the plugins as JSON.");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFile, plugins, asJson];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var pipelinePath = parse.GetValue(pipelineFile);
        var extra = parse.GetValue(plugins) ?? [];
        var json = parse.GetValue(asJson);
        var diagnostics = new List<Diagnostic>();
        var sources = PluginCatalog.BuiltInAssemblies().Select(a => (a, (SourceLocation?)null)).ToList();
        var paths = extra.Select(p => (Path.GetFullPath(p), (SourceLocation?)null)).ToList();
        if (pipelinePath is not null && PipelineParser.Parse(pipelinePath, new PipelineLoadSettings(), diagnostics) is { } definition)
        {
            paths.AddRange(definition.Plugins.Select(p => (p.Path, (SourceLocation?)p.Location)));
        }

        foreach (var (path, location) in paths)
        {
            var files = Directory.Exists(path) ? PluginAssemblyLoader.PluginFilesIn(path) : File.Exists(path) ? [path] : null;
            if (files is null)
            {
                diagnostics.Add(location?.Error(DiagnosticCodes.PluginPathMissing, $"plugin path '{path}' does not exist")
                    ?? new Diagnostic(DiagnosticCodes.PluginPathMissing, $"plugin path '{path}' does not exist", null, 0, 0));
                continue;
            }

            sources.AddRange(files.Select(f => (PluginAssemblyLoader.Load(f), location)));
        }

        var catalog = PluginCatalog.Create(sources, diagnostics);
        PipelineCommandSupport.PrintDiagnostics(diagnostics);
        var steps = catalog.Steps.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(steps.Select(s => new
            {
                name = s.Name, description = s.Description, version = s.Version, consumes = s.Consumes, produces = s.Produces, assembly = s.AssemblyDisplayName,
                options = OptionProperty.Of(s.OptionsType).Select(o => new { key = o.Key, type = TypeName(o.Property), required = o.Attribute.Required, description = o.Attribute.Description }),
            }), new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            foreach (var step in steps)
            {
                Console.WriteLine($"{step.Name} (v{step.Version}): {step.Description}");
                Console.WriteLine($"  consumes: {(step.Consumes.Count == 0 ? "any" : string.Join(", ", step.Consumes))}; produces: {step.Produces}; from {Path.GetFileName(step.AssemblyDisplayName)}");
                foreach (var option in OptionProperty.Of(step.OptionsType))
                {
                    Console.WriteLine($"    {option.Key,-20} {TypeName(option.Property),-12} {(option.Attribute.Required ? "required " : string.Empty)}{option.Attribute.Description}");
                }
            }

            if (steps.Count == 0)
            {
                Console.WriteLine("no plugins found");
            }
        }

        return diagnostics.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static string TypeName(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (OptionProperty.ListElement(type) is { } element)
        {
            return $"list<{KebabCase.From(element.Name)}>";
        }

        return type.IsEnum ? string.Join("|", Enum.GetNames(type).Select(KebabCase.From)) : KebabCase.From(type.Name);
    }
}
