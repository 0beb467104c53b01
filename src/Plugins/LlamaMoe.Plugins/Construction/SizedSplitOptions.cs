using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of splitters whose experts may have explicit, unequal sizes.</summary>
public class SizedSplitOptions : MlpSplitterOptions
{
    /// <summary>Explicit neurons per expert (one entry per expert, summing to the layer's routed neurons); balanced when absent.</summary>
    [Option("Explicit neurons per expert, one per expert, summing to the intermediate size (minus any residual); balanced when absent.")]
    public List<int>? Sizes { get; set; }

    /// <summary>Shares of m = I/(E+N) given to the always-on residual expert; 0 = none (what <c>convert --residual N</c> sets).</summary>
    [Option("Shares of m = I/(experts + residual) kept in the always-on residual expert (gradient: v2's common-importance rule; other splits: the most active of experts + residual balanced sets); 0 for none.", Minimum = 0, Maximum = 64)]
    public int Residual { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Residual > 0 && Sizes is not null)
        {
            yield return new OptionProblem("sizes", "explicit sizes cannot be combined with a residual expert (sizes are balanced shares then)", "Remove 'sizes' or set 'residual: 0'.");
        }

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
