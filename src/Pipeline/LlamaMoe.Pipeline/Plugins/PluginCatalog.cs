using System.Composition;
using System.Composition.Hosting;
using System.Reflection;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Pipeline.Plugins;

/// <summary>
/// The steps and weight sources discovered with System.Composition in the built-in assemblies (the engine and every
/// <c>LlamaMoe.Plugins*.dll</c> beside the host) and in the assemblies a pipeline's <c>plugins:</c> names.
/// </summary>
public sealed class PluginCatalog
{
    private readonly Dictionary<string, PluginDescriptor> steps = new(StringComparer.Ordinal);
    private readonly List<IMlpWeightSource> weightSources = [];
    private readonly List<ILayerStatisticsSource> statisticsSources = [];
    private readonly List<Assembly> assemblies = [];

    private PluginCatalog()
    {
    }

    /// <summary>The steps by YAML name.</summary>
    public IReadOnlyDictionary<string, PluginDescriptor> Steps => steps;

    /// <summary>Exported MLP weight sources.</summary>
    public IReadOnlyList<IMlpWeightSource> WeightSources => weightSources;

    /// <summary>Exported calibration statistics sources.</summary>
    public IReadOnlyList<ILayerStatisticsSource> StatisticsSources => statisticsSources;

    /// <summary>The composed assemblies, in load order.</summary>
    public IReadOnlyList<Assembly> Assemblies => assemblies;

    /// <summary>The built-in assemblies: the engine and <c>LlamaMoe.Plugins*.dll</c> beside the host (or already loaded).</summary>
    public static IReadOnlyList<Assembly> BuiltInAssemblies()
    {
        var result = new List<Assembly> { typeof(PluginCatalog).Assembly };
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "LlamaMoe.Plugins*.dll").Order(StringComparer.Ordinal))
        {
            result.Add(PluginAssemblyLoader.Load(file));
        }

        return result.Distinct().ToList();
    }

    /// <summary>Composes the given assemblies (each with the place that named it, for diagnostics).</summary>
    public static PluginCatalog Create(IEnumerable<(Assembly Assembly, SourceLocation? Origin)> sources, ICollection<Diagnostic> diagnostics)
    {
        var catalog = new PluginCatalog();
        var origins = new Dictionary<string, SourceLocation?>(StringComparer.Ordinal);
        foreach (var (assembly, origin) in sources)
        {
            if (catalog.assemblies.Contains(assembly))
            {
                continue;
            }

            catalog.assemblies.Add(assembly);
            try
            {
                var container = new ContainerConfiguration().WithAssembly(assembly).CreateContainer();
                foreach (var factory in container.GetExports<ExportFactory<IPipelineStep>>())
                {
                    catalog.AddStep(factory, origin, origins, diagnostics);
                }

                catalog.weightSources.AddRange(container.GetExports<IMlpWeightSource>());
                catalog.statisticsSources.AddRange(container.GetExports<ILayerStatisticsSource>());
            }
            catch (Exception ex) when (ex is ReflectionTypeLoadException or CompositionFailedException or FileNotFoundException or TypeLoadException or FileLoadException)
            {
                diagnostics.Add(Error(origin, DiagnosticCodes.PluginLoadFailed, $"plugin assembly {assembly.GetName().Name} cannot be composed: {ex.Message}",
                    "Rebuild the plugin against this version of LlamaMoe.Pipeline.Abstractions and keep its dependencies beside it."));
            }
        }

        return catalog;
    }

    private void AddStep(ExportFactory<IPipelineStep> factory, SourceLocation? origin, Dictionary<string, SourceLocation?> origins, ICollection<Diagnostic> diagnostics)
    {
        Type type;
        using (var probe = factory.CreateExport())
        {
            type = probe.Value.GetType();
        }

        var metadata = type.GetCustomAttribute<PipelineStepAttribute>();
        if (metadata is null)
        {
            diagnostics.Add(Error(origin, DiagnosticCodes.PluginLoadFailed, $"{type.FullName} exports IPipelineStep without [PipelineStep(name, optionsType)]", "Export steps with the PipelineStep attribute."));
            return;
        }

        if (!typeof(StepOptions).IsAssignableFrom(metadata.OptionsType) || metadata.OptionsType.IsAbstract || metadata.OptionsType.GetConstructor(Type.EmptyTypes) is null)
        {
            diagnostics.Add(Error(origin, DiagnosticCodes.PluginBadOptionsType, $"plugin '{metadata.Name}' ({type.FullName}) has options type {metadata.OptionsType.Name}, which is not a concrete StepOptions class with a parameterless constructor"));
            return;
        }

        var descriptor = new PluginDescriptor(metadata, type, factory);
        if (steps.TryGetValue(metadata.Name, out var existing))
        {
            diagnostics.Add(Error(origin ?? origins[metadata.Name], DiagnosticCodes.DuplicatePlugin,
                $"plugin name '{metadata.Name}' is exported twice: by {existing.StepType.FullName} in {existing.AssemblyDisplayName} and by {type.FullName} in {descriptor.AssemblyDisplayName}",
                "Rename one of them or remove one assembly from 'plugins:'."));
            return;
        }

        steps[metadata.Name] = descriptor;
        origins[metadata.Name] = origin;
    }

    private static Diagnostic Error(SourceLocation? origin, string code, string message, string? advice = null) =>
        origin?.Error(code, message, advice) ?? new Diagnostic(code, message, null, 0, 0, advice);
}
