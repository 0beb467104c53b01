using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>split-mlp/sharing</c>.</summary>
public sealed class SharingSplitOptions : MlpSplitterOptions
{
    /// <summary>Neurons per expert; default I / experts.</summary>
    [Option("Neurons per expert (each expert takes its own most important ones); default intermediate size / experts.", Minimum = 1)]
    public int? ExpertSize { get; set; }
}
