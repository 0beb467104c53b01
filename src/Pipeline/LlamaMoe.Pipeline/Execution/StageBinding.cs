using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Options;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>Binds one stage's options (before running, or while running with upstream outputs known) and runs the step's own validation.</summary>
public static class StageBinding
{
    /// <summary>Binds and validates; returns the options (null when deferred or invalid) and the binder (for locations and input paths).</summary>
    /// <param name="definition">The pipeline.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="environment">Environment lookup.</param>
    /// <param name="stageOutputs">Upstream outputs while running; null before.</param>
    /// <param name="diagnostics">Receives problems.</param>
    /// <param name="checkInputPaths">Report input paths that do not exist (LMOE0056).</param>
    /// <param name="knownAfterUpstreamRuns">
    /// Input paths for which this returns true are inside the output of an upstream stage that has not run yet (a plan's
    /// pending artifact): they exist only after that stage runs, so they are not reported missing.
    /// </param>
    public static (StepOptions? Options, OptionsBinder Binder) Bind(
        PipelineDefinition definition,
        ResolvedStage stage,
        Func<string, string?> environment,
        Func<string, string, string?>? stageOutputs,
        ICollection<Diagnostic> diagnostics,
        bool checkInputPaths = true,
        Func<string, bool>? knownAfterUpstreamRuns = null)
    {
        var before = diagnostics.Count;
        var interpolator = new Interpolator(definition.Vars, environment, stageOutputs);
        var needs = stage.Definition.Needs.Select(n => n.Value).ToHashSet(StringComparer.Ordinal);
        var binder = new OptionsBinder(definition.Directory, interpolator, needs, diagnostics);
        var options = binder.Bind(stage.Plugin.OptionsType, stage.Definition.With, stage.Definition.Location);
        if (diagnostics.Count != before || binder.Deferred)
        {
            return (diagnostics.Count != before ? null : options, binder);
        }

        foreach (var (key, path) in binder.InputPaths)
        {
            if (checkInputPaths && !File.Exists(path) && !Directory.Exists(path) && knownAfterUpstreamRuns?.Invoke(path) != true)
            {
                diagnostics.Add(Locate(binder, stage, key).Error(DiagnosticCodes.InputPathMissing, $"option '{key}' names '{path}', which does not exist", "Paths are relative to the pipeline file's folder."));
            }
        }

        using (var export = stage.Plugin.Create())
        {
            foreach (var problem in export.Value.ValidateOptions(options).Concat(options.ValidateNeeds(needs)))
            {
                diagnostics.Add(Locate(binder, stage, problem.Key).Error(problem.Code ?? DiagnosticCodes.OptionInvalid, problem.Key.Length == 0 ? problem.Message : $"option '{problem.Key}': {problem.Message}", problem.Advice));
            }
        }

        return (diagnostics.Count != before ? null : options, binder);
    }

    private static SourceLocation Locate(OptionsBinder binder, ResolvedStage stage, string key) =>
        binder.Locations.TryGetValue(key, out var location) ? location : stage.Definition.With?.Location ?? stage.Definition.Location;
}
