using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>clustering</c>: v1's independent clustering split — balanced k-means of one MLP matrix's (normalised) rows.</summary>
public sealed class ClusteringSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "clustering";

    /// <inheritdoc />
    public bool NeedsImportance => false;

    /// <inheritdoc />
    public bool NeedsCoactivation => false;

    /// <inheritdoc />
    public bool ReadsWeights => true;

    /// <inheritdoc />
    public bool SupportsResidual => true;

    /// <inheritdoc />
    public ExpertPartition Split(SplitRequest request)
    {
        var settings = request.Settings;
        var rows = request.ReadRows(settings.ClusteringRows); // (I, H)
        var sets = ClusteringSplit.Split(rows, request.Neurons, request.Hidden, request.Experts + request.ResidualExperts, request.Seed,
            ResidualExpert.Sizes(request), settings.ClusteringIterations, settings.ClusteringNormalize);
        return ResidualExpert.Carve(sets, request.Experts, request.Statistics);
    }
}
