namespace LlamaMoe.Pipeline;

/// <summary>Everything a running step may use. Created by the engine for one stage run.</summary>
public interface IStepContext
{
    /// <summary>The stage id (its key under <c>stages:</c>).</summary>
    string StageId { get; }

    /// <summary>The pipeline's <c>name:</c>.</summary>
    string PipelineName { get; }

    /// <summary>The folder holding the pipeline file; relative paths in options were resolved against it.</summary>
    string PipelineDirectory { get; }

    /// <summary>The bound, validated options.</summary>
    StepOptions Options { get; }

    /// <summary>The input artifacts, one per stage in <c>needs</c>, in that order.</summary>
    IReadOnlyList<ArtifactHandle> Inputs { get; }

    /// <summary>
    /// The (initially empty) folder the step writes its artifact into. The engine adds the manifest,
    /// digests the folder and publishes it atomically after <see cref="IPipelineStep.RunAsync"/> returns.
    /// </summary>
    string OutputDirectory { get; }

    /// <summary>
    /// A private folder keyed by the stage key that survives an interrupted run (for checkpoints to resume from);
    /// deleted after the stage's artifact is published.
    /// </summary>
    string ResumeDirectory { get; }

    /// <summary>
    /// Named string outputs recorded in the artifact manifest and visible to later stages as
    /// <c>${stages.ID.outputs.NAME}</c> (besides the built-in <c>path</c> and <c>digest</c>).
    /// </summary>
    IDictionary<string, string> Outputs { get; }

    /// <summary>The seed for this stage (the pipeline's <c>seed:</c>, default 0).</summary>
    int Seed { get; }

    /// <summary>The resolved device kind: <c>cpu</c> or <c>cuda</c>.</summary>
    string Device { get; }

    /// <summary>
    /// Records what the step computes on, as <c>DeviceDescription.Of</c> words it: <c>cuda:0 NVIDIA H200, bfloat16</c>
    /// or <c>cpu (2 threads), float32</c>. The run prints it once per stage, and the artifact manifest and the lock file
    /// keep it (outside the content digest). Steps that do no tensor work do not call it.
    /// </summary>
    void ReportDevice(string description);

    /// <summary>Progress reporting (step counts, messages, metrics).</summary>
    IStepProgress Progress { get; }

    /// <summary>Log lines for the user.</summary>
    IStepLog Log { get; }

    /// <summary>The run's services (<see cref="ISeedSource"/>, <see cref="IDeviceSelection"/>, <see cref="ITokenizerCache"/>, ...).</summary>
    IServiceProvider Services { get; }

    /// <summary>The options as their concrete type.</summary>
    T GetOptions<T>()
        where T : StepOptions;

    /// <summary>The input artifact produced by stage <paramref name="stageId"/>, which must be in <c>needs</c>.</summary>
    ArtifactHandle Input(string stageId);

    /// <summary>The inputs of one artifact kind, in <c>needs</c> order.</summary>
    IReadOnlyList<ArtifactHandle> InputsOfKind(string kind);
}
