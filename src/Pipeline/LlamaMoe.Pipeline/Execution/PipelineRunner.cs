using System.Diagnostics;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Store;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>
/// Runs a validated pipeline: stages in dependency order; a stage whose key is in the store is skipped (so an
/// unchanged output stops the cascade); others run into a temp folder that is published atomically. Runs over one
/// store are serialised by a file lock; the lock file and the <c>artifacts/NAME/STAGE</c> links are updated per stage.
/// </summary>
public sealed class PipelineRunner
{
    private readonly LoadedPipeline pipeline;
    private readonly IServiceProvider services;
    private readonly IPipelineRunObserver observer;

    /// <summary>Creates a runner; <paramref name="services"/> come from <c>AddLlamaMoePipeline</c>.</summary>
    public PipelineRunner(LoadedPipeline pipeline, IServiceProvider services)
    {
        this.pipeline = pipeline;
        this.services = services;
        observer = services.GetRequiredService<IPipelineRunObserver>();
    }

    /// <summary>Runs the pipeline.</summary>
    /// <param name="force">Stages to run even when up to date.</param>
    /// <param name="until">Run only this stage and what it needs.</param>
    /// <param name="environment">Environment lookup (default: the process environment).</param>
    /// <param name="cancellationToken">Cancels the run; nothing half-written is published.</param>
    public async Task<IReadOnlyList<StageOutcome>> RunAsync(IReadOnlySet<string>? force = null, string? until = null, Func<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        environment ??= Environment.GetEnvironmentVariable;
        force ??= new HashSet<string>();
        var definition = pipeline.Definition;
        CheckStageArguments(force.Append(until).OfType<string>());
        var selected = until is null ? pipeline.Stages.Select(s => s.Id).ToHashSet() : StageGraph.WithAncestors(definition.Stages, until);
        var store = services.GetRequiredService<ArtifactStore>();
        var digests = services.GetRequiredService<FileDigests>();
        var device = services.GetRequiredService<IDeviceSelection>().Kind;
        using var storeLock = store.AcquireLock();
        store.CleanTemp();
        var lockFile = LockFile.Read(definition.LockFilePath);
        lockFile.Pipeline = definition.Name;
        var handles = new Dictionary<string, ArtifactHandle>(StringComparer.Ordinal);
        var outcomes = new List<StageOutcome>();
        foreach (var stage in pipeline.Stages)
        {
            if (!selected.Contains(stage.Id))
            {
                var skipped = new StageOutcome(stage.Id, StageStatus.NotRequested, null, null, false, [], TimeSpan.Zero);
                outcomes.Add(skipped);
                observer.StageFinished(skipped);
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            var optionLocations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
            var (options, keyInputs) = StageKeyBuilder.Build(pipeline, stage, handles, digests, device, environment, optionLocations);
            digests.Save();
            var key = keyInputs.ComputeKey();
            var previous = lockFile.Stages.GetValueOrDefault(stage.Id);
            var cached = store.Lookup(key);
            var storeWarnings = store.TakeWarnings();
            foreach (var (code, message) in storeWarnings)
            {
                observer.StageLog(stage.Id, warning: true, $"{code}: {message}");
            }

            StageOutcome outcome;
            if (cached is not null && !force.Contains(stage.Id))
            {
                outcome = new StageOutcome(stage.Id, StageStatus.UpToDate, key, cached, false, [], watch.Elapsed, previous?.Key == key ? previous.Device : null);
            }
            else
            {
                var reasons = force.Contains(stage.Id) ? ["forced (--force)"] : StaleReasons.Explain(keyInputs, previous, artifactPresent: false);
                if (!force.Contains(stage.Id) && storeWarnings.Count > 0)
                {
                    reasons = [.. storeWarnings.Select(w => $"store: {w.Code}")];
                }
                else if (!force.Contains(stage.Id) && previous?.Key == key && store.HasObject(previous.OutputDigest))
                {
                    reasons = ["an input object was replaced since this stage ran"];
                }

                observer.StageStarted(stage.Id, stage.Plugin.Name, reasons);
                var temp = store.CreateTempDirectory(key);
                var manifest = await StageExecutor.ExecuteAsync(stage, new StepContextSettings
                {
                    PipelineName = definition.Name,
                    PipelineDirectory = definition.Directory,
                    Options = options,
                    Inputs = stage.Definition.Needs.Select(n => handles[n.Value]).ToList(),
                    OutputDirectory = temp,
                    ResumeDirectory = store.ScratchDirectory(key),
                    Seed = definition.Seed,
                    Device = device,
                    Services = services,
                    OptionLocations = optionLocations,
                }, observer, cancellationToken).ConfigureAwait(false);
                store.Publish(temp, key, manifest.Digest, stage.Definition.Needs.Select(n => handles[n.Value].Digest));
                foreach (var (code, message) in store.TakeWarnings())
                {
                    observer.StageLog(stage.Id, warning: true, $"{code}: {message}");
                }

                outcome = new StageOutcome(stage.Id, StageStatus.Ran, key, manifest.Digest, previous?.OutputDigest != manifest.Digest, reasons, watch.Elapsed, manifest.Device);
            }

            var objectDirectory = store.ObjectDirectory(outcome.OutputDigest!);
            var published = ArtifactManifest.Read(objectDirectory);
            // The store keeps the first artifact with a given digest: its manifest names the device of the run that made it.
            outcome = outcome with { Device = outcome.Device ?? published.Device };
            handles[stage.Id] = published.ToHandle(stage.Id, objectDirectory);
            lockFile.Stages[stage.Id] = new StageRecord { Key = key, KeyInputs = keyInputs, OutputDigest = outcome.OutputDigest!, Device = outcome.Device };
            lockFile.Write(definition.LockFilePath);
            ArtifactView.Link(definition.ArtifactsViewDirectory, stage.Id, objectDirectory);
            outcomes.Add(outcome);
            observer.StageFinished(outcome);
        }

        return outcomes;
    }

    private void CheckStageArguments(IEnumerable<string> ids)
    {
        var known = pipeline.Stages.Select(s => s.Id).ToList();
        var problems = ids.Where(id => !known.Contains(id))
            .Select(id => new Diagnostic(DiagnosticCodes.UnknownStageArgument, $"the pipeline has no stage '{id}'", pipeline.Definition.FilePath, 0, 0, Suggestions.DidYouMean(id, known)))
            .ToList();
        if (problems.Count > 0)
        {
            throw new PipelineDiagnosticsException(problems);
        }
    }
}
