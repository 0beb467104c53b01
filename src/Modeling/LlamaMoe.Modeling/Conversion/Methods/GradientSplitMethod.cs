using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>gradient</c>: v2's importance split — greedy balanced assignment by per-cluster importance, with v2's common-importance residual.</summary>
public sealed class GradientSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "gradient";

    /// <inheritdoc />
    public bool NeedsImportance => true;

    /// <inheritdoc />
    public bool NeedsCoactivation => false;

    /// <inheritdoc />
    public bool ReadsWeights => false;

    /// <inheritdoc />
    public bool SupportsResidual => true;

    /// <inheritdoc />
    public ExpertPartition Split(SplitRequest request)
    {
        var importance = ImportanceOf(request);
        return request.ResidualExperts > 0 ? GradientSplit.GreedyWithResidual(importance, request.ResidualExperts) : GradientSplit.Greedy(importance, request.Sizes);
    }

    /// <summary>The request's importance, checked to cover one cluster per expert (LMOE2207 otherwise).</summary>
    internal static IReadOnlyList<float[]> ImportanceOf(SplitRequest request)
    {
        var importance = request.RequireImportance();
        return importance.Count == request.Experts ? importance
            : throw new LlamaMoeException(ConstructionErrorCodes.CalibrationRequired, $"the calibration's importance covers {importance.Count} clusters, the split asks for {request.Experts} experts",
                key: "experts", advice: "Calibrate the importance with a router (or clusters) of the same expert count.");
    }
}
