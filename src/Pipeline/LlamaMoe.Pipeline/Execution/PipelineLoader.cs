using System.Reflection;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Plugins;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>
/// Loads and validates a pipeline: YAML, structure, plugins (built-in, extra and <c>plugins:</c>), plugin names,
/// options and artifact kinds — reporting every problem at once.
/// </summary>
public static class PipelineLoader
{
    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <param name="path">The pipeline file.</param>
    /// <param name="settings">Overrides and environment.</param>
    /// <param name="extraAssemblies">Assemblies to compose besides the built-in ones (tests, hosts).</param>
    public static PipelineLoadResult Load(string path, PipelineLoadSettings? settings = null, IEnumerable<Assembly>? extraAssemblies = null)
    {
        settings ??= new PipelineLoadSettings();
        var diagnostics = new List<Diagnostic>();
        var definition = PipelineParser.Parse(path, settings, diagnostics);
        if (definition is null)
        {
            return new PipelineLoadResult(null, Sorted(diagnostics));
        }

        var sources = PluginCatalog.BuiltInAssemblies().Select(a => (a, (SourceLocation?)null)).ToList();
        sources.AddRange((extraAssemblies ?? []).Select(a => (a, (SourceLocation?)null)));
        sources.AddRange(LoadDeclaredPlugins(definition, diagnostics));
        var catalog = PluginCatalog.Create(sources, diagnostics);

        var resolved = new List<ResolvedStage>();
        foreach (var stage in StageGraph.TopologicalOrder(definition.Stages))
        {
            if (!catalog.Steps.TryGetValue(stage.Uses.Value, out var plugin))
            {
                diagnostics.Add(stage.Uses.Location.Error(DiagnosticCodes.UnknownPlugin, $"unknown plugin '{stage.Uses.Value}'",
                    Suggestions.DidYouMean(stage.Uses.Value, catalog.Steps.Keys) ?? "Run 'llama-moe plugins' to list them, or add the plugin's assembly under 'plugins:'."));
                continue;
            }

            resolved.Add(new ResolvedStage(stage, plugin));
        }

        var byId = resolved.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var stage in resolved)
        {
            StageBinding.Bind(definition, stage, settings.Environment, null, diagnostics, checkInputPaths: !settings.InputPathsMayBeMissing);
            foreach (var need in stage.Definition.Needs)
            {
                if (stage.Plugin.Consumes.Count > 0 && byId.TryGetValue(need.Value, out var producer) && !stage.Plugin.Consumes.Contains(producer.Plugin.Produces))
                {
                    diagnostics.Add(need.Location.Error(DiagnosticCodes.ArtifactKindMismatch,
                        $"stage '{stage.Id}' ({stage.Plugin.Name}) consumes {string.Join(" or ", stage.Plugin.Consumes)}, but '{need.Value}' ({producer.Plugin.Name}) produces {producer.Plugin.Produces}"));
                }
            }
        }

        var sorted = Sorted(diagnostics);
        return new PipelineLoadResult(sorted.Count == 0 ? new LoadedPipeline(definition, catalog, resolved) : null, sorted);
    }

    private static List<(Assembly, SourceLocation?)> LoadDeclaredPlugins(PipelineDefinition definition, List<Diagnostic> diagnostics)
    {
        var result = new List<(Assembly, SourceLocation?)>();
        foreach (var (path, location) in definition.Plugins)
        {
            var files = Directory.Exists(path) ? PluginAssemblyLoader.PluginFilesIn(path) : File.Exists(path) ? [path] : null;
            if (files is null)
            {
                diagnostics.Add(location.Error(DiagnosticCodes.PluginPathMissing, $"plugin path '{path}' does not exist", "Build the plugin project first; paths are relative to the pipeline file."));
                continue;
            }

            foreach (var file in files)
            {
                try
                {
                    result.Add((PluginAssemblyLoader.Load(file), location));
                }
                catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or FileNotFoundException)
                {
                    diagnostics.Add(location.Error(DiagnosticCodes.PluginLoadFailed, $"plugin assembly '{file}' cannot be loaded: {ex.Message}"));
                }
            }
        }

        return result;
    }

    private static List<Diagnostic> Sorted(List<Diagnostic> diagnostics) =>
        diagnostics.Distinct().OrderBy(d => d.File ?? string.Empty, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ToList();
}
