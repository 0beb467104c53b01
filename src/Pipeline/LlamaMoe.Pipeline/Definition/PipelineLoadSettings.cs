namespace LlamaMoe.Pipeline.Definition;

/// <summary>How a pipeline file is loaded: variable, store and device overrides from the command line, and the environment.</summary>
public sealed record PipelineLoadSettings
{
    /// <summary>Values that replace (or add to) <c>vars:</c>.</summary>
    public IReadOnlyDictionary<string, string> VariableOverrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Replaces <c>store:</c> (CLI <c>--store</c>).</summary>
    public string? StoreOverride { get; init; }

    /// <summary>Replaces <c>device:</c> (CLI <c>--device</c>).</summary>
    public string? DeviceOverride { get; init; }

    /// <summary>Environment lookup for <c>${env:NAME}</c>.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>
    /// When true, loading does not report input paths that do not exist (LMOE0056); they are checked again when the stage
    /// runs. <c>llama-moe validate</c> uses this to accept recipes for models that live on another machine.
    /// </summary>
    public bool InputPathsMayBeMissing { get; init; }
}
