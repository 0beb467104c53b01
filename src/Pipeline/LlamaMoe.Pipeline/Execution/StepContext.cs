namespace LlamaMoe.Pipeline.Execution;

/// <summary>The engine's <see cref="IStepContext"/>.</summary>
internal sealed class StepContext : IStepContext, IStepProgress, IStepLog
{
    private readonly IPipelineRunObserver observer;
    private readonly List<string> devices = [];

    public StepContext(IPipelineRunObserver observer) => this.observer = observer;

    public required string StageId { get; init; }

    public required string PipelineName { get; init; }

    public required string PipelineDirectory { get; init; }

    public required StepOptions Options { get; init; }

    public required IReadOnlyList<ArtifactHandle> Inputs { get; init; }

    public required string OutputDirectory { get; init; }

    public required string ResumeDirectory { get; init; }

    public IDictionary<string, string> Outputs { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    public required int Seed { get; init; }

    public required string Device { get; init; }

    /// <summary>The devices the step reported, in order, joined by "; " (null when it reported none).</summary>
    public string? ReportedDevice => devices.Count == 0 ? null : string.Join("; ", devices);

    public IStepProgress Progress => this;

    public IStepLog Log => this;

    public required IServiceProvider Services { get; init; }

    public T GetOptions<T>()
        where T : StepOptions => (T)Options;

    public ArtifactHandle Input(string stageId) =>
        Inputs.FirstOrDefault(i => i.StageId == stageId) ?? throw new LlamaMoeException(Diagnostics.DiagnosticCodes.UndeclaredInput, $"stage '{StageId}' asked for the artifact of '{stageId}', which it does not need", key: StageId, advice: $"Add '{stageId}' to needs.");

    public IReadOnlyList<ArtifactHandle> InputsOfKind(string kind) => Inputs.Where(i => i.Kind == kind).ToList();

    public void ReportDevice(string description)
    {
        lock (devices)
        {
            if (devices.Contains(description))
            {
                return;
            }

            devices.Add(description);
        }

        observer.StageLog(StageId, false, $"device: {description}");
    }

    public void Report(StepProgressUpdate value) => observer.StageProgress(StageId, value);

    public void Info(string message) => observer.StageLog(StageId, false, message);

    public void Warning(string message) => observer.StageLog(StageId, true, message);
}
