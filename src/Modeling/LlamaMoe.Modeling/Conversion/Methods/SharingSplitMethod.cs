using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>sharing</c>: v1's inner-sharing split — every expert takes its own most important neurons (experts may overlap).</summary>
public sealed class SharingSplitMethod : ISplitMethod
{
    /// <inheritdoc />
    public string Name => "sharing";

    /// <inheritdoc />
    public bool NeedsImportance => true;

    /// <inheritdoc />
    public bool NeedsCoactivation => false;

    /// <inheritdoc />
    public bool ReadsWeights => false;

    /// <inheritdoc />
    public bool SupportsResidual => false;

    /// <inheritdoc />
    public ExpertPartition Split(SplitRequest request) =>
        GradientSplit.Sharing(GradientSplitMethod.ImportanceOf(request), request.Settings.SharingExpertSize ?? Math.Max(1, request.Neurons / request.Experts));
}
