using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of splitters whose experts may have explicit, unequal sizes.</summary>
public class SizedSplitOptions : MlpSplitterOptions
{
    /// <summary>Explicit neurons per expert (one entry per expert, summing to the layer's routed neurons); balanced when absent.</summary>
    [Option("Explicit neurons per expert, one per expert, summing to the intermediate size (minus any residual); balanced when absent.")]
    public List<int>? Sizes { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Sizes is null)
        {
            yield break;
        }

        if (Sizes.Count != Experts)
        {
            yield return new OptionProblem("sizes", $"'sizes' lists {Sizes.Count} sizes for {Experts} experts", "Give exactly one size per expert.");
        }
        else if (Sizes.Any(size => size < 1))
        {
            yield return new OptionProblem("sizes", "every expert size must be at least 1", "Remove the zero or negative sizes.");
        }
    }
}
