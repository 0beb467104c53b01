using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Plugins;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>A validated pipeline: its definition, plugin catalog and stages in dependency order with their plugins.</summary>
/// <param name="Definition">The parsed file.</param>
/// <param name="Catalog">The plugins.</param>
/// <param name="Stages">Stages in dependency order.</param>
public sealed record LoadedPipeline(PipelineDefinition Definition, PluginCatalog Catalog, IReadOnlyList<ResolvedStage> Stages)
{
    /// <summary>A stage by id.</summary>
    public ResolvedStage Stage(string id) => Stages.First(s => s.Definition.Id == id);
}

/// <summary>A stage with its plugin.</summary>
/// <param name="Definition">The stage as written.</param>
/// <param name="Plugin">The plugin it uses.</param>
public sealed record ResolvedStage(StageDefinition Definition, PluginDescriptor Plugin)
{
    /// <summary>The stage id.</summary>
    public string Id => Definition.Id;
}

/// <summary>The outcome of loading: the pipeline when there were no diagnostics, and every diagnostic.</summary>
/// <param name="Pipeline">The pipeline, or null when invalid.</param>
/// <param name="Diagnostics">All problems, in file order.</param>
public sealed record PipelineLoadResult(LoadedPipeline? Pipeline, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>The pipeline, or throws <see cref="PipelineDiagnosticsException"/> with all diagnostics.</summary>
    public LoadedPipeline EnsureValid() => Pipeline ?? throw new PipelineDiagnosticsException(Diagnostics);
}
