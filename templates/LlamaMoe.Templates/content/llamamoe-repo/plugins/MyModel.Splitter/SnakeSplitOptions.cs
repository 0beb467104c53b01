using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MyModel.Splitter;

/// <summary>Options of <c>split-mlp/down-norm-snake</c>.</summary>
public sealed class SnakeSplitOptions : MlpSplitterOptions
{
    /// <summary>Deal the strongest neuron first (true) or the weakest first (false).</summary>
    [Option("Deal neurons strongest-first (true) or weakest-first (false).")]
    public bool Descending { get; set; } = true;
}
