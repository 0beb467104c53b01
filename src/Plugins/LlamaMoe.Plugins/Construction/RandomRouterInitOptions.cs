using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>router-init/random</c>.</summary>
public sealed class RandomRouterInitOptions : RouterInitOptions
{
    /// <summary>A dense model folder when no dense-model stage is needed.</summary>
    [Option("Dense model folder when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }
}
