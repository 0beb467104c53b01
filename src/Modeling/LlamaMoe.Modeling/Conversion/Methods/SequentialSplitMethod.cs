using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>sequential</c>: v2's vanilla split — contiguous blocks of neurons in index order.</summary>
public sealed class SequentialSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "sequential";

    /// <inheritdoc />
    public bool NeedsImportance => false;

    /// <inheritdoc />
    public bool NeedsCoactivation => false;

    /// <inheritdoc />
    public bool ReadsWeights => false;

    /// <inheritdoc />
    public bool SupportsResidual => true;

    /// <inheritdoc />
    public ExpertPartition Split(SplitRequest request) =>
        ResidualExpert.Carve(SimpleSplits.Sequential(request.Neurons, request.Experts + request.ResidualExperts, ResidualExpert.Sizes(request)), request.Experts, request.Statistics);
}
