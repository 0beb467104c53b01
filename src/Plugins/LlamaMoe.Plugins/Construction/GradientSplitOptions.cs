using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>split-mlp/gradient</c>.</summary>
public sealed class GradientSplitOptions : SizedSplitOptions
{
    /// <summary>Shares of m = I/(E+N) given to the always-on residual expert (v2: 1); 0 = none.</summary>
    [Option("Shares of m = I/(experts + residual) kept in the always-on residual expert, chosen by v2's common-importance rule; 0 for none.", Minimum = 0, Maximum = 64)]
    public int Residual { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        foreach (var problem in base.Validate())
        {
            yield return problem;
        }

        if (Residual > 0 && Sizes is not null)
        {
            yield return new OptionProblem("sizes", "explicit sizes cannot be combined with a residual expert (sizes are balanced shares then)", "Remove 'sizes' or set 'residual: 0'.");
        }
    }
}
