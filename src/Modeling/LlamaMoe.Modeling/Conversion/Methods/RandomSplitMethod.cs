using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>random</c>: v1's independent random split — a seeded shuffle cut into balanced (or explicit) sizes.</summary>
public sealed class RandomSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "random";

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
        ResidualExpert.Carve(SimpleSplits.Random(request.Neurons, request.Experts + request.ResidualExperts, request.Seed, ResidualExpert.Sizes(request)), request.Experts, request.Statistics);
}
