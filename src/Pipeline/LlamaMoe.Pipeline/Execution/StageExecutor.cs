using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>Runs one step into a fresh temp folder and seals it; never publishes half-written output.</summary>
public static class StageExecutor
{
    /// <summary>Runs the step and seals its output folder. On failure or cancellation the folder is deleted and the error rethrown.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="settings">What the context is built from.</param>
    /// <param name="observer">Receives progress and logs.</param>
    /// <param name="cancellationToken">Cancels the step.</param>
    /// <param name="checkCancellationAfterRun">Treat a cancellation noticed only after the step returned as cancelled (the runner's default; the conformance kit turns it off to see whether the step itself honours the token).</param>
    /// <returns>The sealed manifest (the folder stays at the settings' output directory).</returns>
    public static async Task<ArtifactManifest> ExecuteAsync(
        ResolvedStage stage,
        StepContextSettings settings,
        IPipelineRunObserver observer,
        CancellationToken cancellationToken,
        bool checkCancellationAfterRun = true)
    {
        var context = new StepContext(observer)
        {
            StageId = stage.Id,
            PipelineName = settings.PipelineName,
            PipelineDirectory = settings.PipelineDirectory,
            Options = settings.Options,
            Inputs = settings.Inputs,
            OutputDirectory = settings.OutputDirectory,
            ResumeDirectory = settings.ResumeDirectory,
            Seed = settings.Seed,
            Device = settings.Device,
            Services = settings.Services,
        };
        try
        {
            using var export = stage.Plugin.Create();
            await export.Value.RunAsync(context, cancellationToken).ConfigureAwait(false);
            if (checkCancellationAfterRun)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (Exception ex)
        {
            TryDelete(settings.OutputDirectory);
            if (ex is LlamaMoeException coded)
            {
                var located = StageErrorLocator.Locate(coded, stage, settings.OptionLocations);
                if (ReferenceEquals(located, coded))
                {
                    throw;
                }

                throw located;
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            var location = stage.Definition.Location;
            throw new LlamaMoeException(DiagnosticCodes.StageFailed, $"stage '{stage.Id}' ({stage.Plugin.Name}) failed: {ex.GetType().Name}: {ex.Message}",
                location.File, key: stage.Id, line: location.Line, column: location.Column, inner: ex);
        }

        return ArtifactSealer.Seal(settings.OutputDirectory, stage.Plugin.Produces, new ArtifactProducer(stage.Plugin.Name, stage.Plugin.Version), context.Outputs, new FileDigests(null), context.ReportedDevice);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the next run's tmp cleanup.
        }
    }
}

/// <summary>What a step context is built from.</summary>
public sealed record StepContextSettings
{
    /// <summary>The pipeline name.</summary>
    public required string PipelineName { get; init; }

    /// <summary>The pipeline folder.</summary>
    public required string PipelineDirectory { get; init; }

    /// <summary>The bound options.</summary>
    public required StepOptions Options { get; init; }

    /// <summary>Input artifacts in needs order.</summary>
    public required IReadOnlyList<ArtifactHandle> Inputs { get; init; }

    /// <summary>The empty output folder.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The resume folder.</summary>
    public required string ResumeDirectory { get; init; }

    /// <summary>The seed.</summary>
    public required int Seed { get; init; }

    /// <summary>The device kind.</summary>
    public required string Device { get; init; }

    /// <summary>The services.</summary>
    public required IServiceProvider Services { get; init; }

    /// <summary>Where each bound option value is in the pipeline file (from the binder), for placing the step's coded errors at their key.</summary>
    public IReadOnlyDictionary<string, SourceLocation> OptionLocations { get; init; } = new Dictionary<string, SourceLocation>();
}
