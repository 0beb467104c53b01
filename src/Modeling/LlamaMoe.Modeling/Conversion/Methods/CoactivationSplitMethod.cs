using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>coactivation</c>: v1's graph split — a balanced partition of the calibration co-activation graph.</summary>
public sealed class CoactivationSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "coactivation";

    /// <inheritdoc />
    public bool NeedsImportance => false;

    /// <inheritdoc />
    public bool NeedsCoactivation => true;

    /// <inheritdoc />
    public bool ReadsWeights => false;

    /// <inheritdoc />
    public bool SupportsResidual => true;

    /// <inheritdoc />
    public ExpertPartition Split(SplitRequest request) =>
        ResidualExpert.Carve(CoactivationSplit.Split(request.RequireCoactivation(), request.Neurons, request.Experts + request.ResidualExperts, request.Seed, ResidualExpert.Sizes(request)),
            request.Experts, request.Statistics);
}
