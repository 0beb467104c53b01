using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MagnitudeSplitter;

/// <summary>How neurons sorted by magnitude are dealt into experts.</summary>
public enum DealMode
{
    /// <summary>Neuron k of the sorted order goes to expert k mod E: every expert gets strong and weak neurons.</summary>
    RoundRobin,

    /// <summary>The sorted order is cut into E contiguous chunks: expert 0 gets the strongest.</summary>
    Contiguous,
}

/// <summary>Options of <c>split-mlp/magnitude</c>.</summary>
public sealed class MagnitudeOptions : MlpSplitterOptions
{
    /// <summary>How sorted neurons are dealt.</summary>
    [Option("How neurons sorted by norm are dealt into experts.")]
    public DealMode Mode { get; set; } = DealMode.RoundRobin;

    /// <summary>How many of the strongest neurons go to a shared residual block instead of an expert.</summary>
    [Option("Number of highest-norm neurons kept in a shared residual block.", Minimum = 0)]
    public int Residual { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Mode == DealMode.Contiguous && Residual > 0)
        {
            yield return new OptionProblem("residual", "a residual block is only supported with mode round-robin", "Set 'mode: round-robin' or 'residual: 0'.");
        }
    }
}
