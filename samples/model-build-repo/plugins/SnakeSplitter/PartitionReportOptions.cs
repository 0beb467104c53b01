using LlamaMoe.Pipeline;

namespace SnakeSplitter;

/// <summary>Options of <c>partition/report</c>.</summary>
public sealed class PartitionReportOptions : StepOptions
{
    /// <summary>Decimal places of the reported ratios.</summary>
    [Option("Decimal places of the reported ratios.", Minimum = 0, Maximum = 6)]
    public int Decimals { get; set; } = 3;
}
