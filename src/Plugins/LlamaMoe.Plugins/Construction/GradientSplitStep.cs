using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/gradient</c>: v2's importance-based split — each router cluster's per-neuron first-order importance
/// |h·∂L/∂h| (from <c>calibrate</c> with <c>importance: true</c>) drives a greedy balanced assignment; with
/// <c>residual: N</c> the neurons important to most clusters first form the shared residual expert.
/// </summary>
[PipelineStep("split-mlp/gradient", typeof(GradientSplitOptions),
    Description = "Split MLP neurons by per-cluster gradient importance, greedy and balanced, optionally with v2's residual expert.",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class GradientSplitStep : CalibratedSplitStep<GradientSplitOptions>
{
    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) => Split(layer, experts, null, 0);

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(GradientSplitOptions options) =>
        new FunctionSplitter((layer, experts, _) => Split(layer, experts, options.Sizes, options.Residual));

    private static PublicPartition Split(MlpLayerWeights layer, int experts, IReadOnlyList<int>? sizes, int residual)
    {
        var importance = Importance(layer);
        if (importance.Length != experts)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration's importance covers {importance.Length} clusters, the split asks for {experts} experts",
                key: "experts", advice: "Calibrate the importance with a router of the same expert count.");
        }

        return PartitionConversion.ToPublic(residual > 0 ? GradientSplit.GreedyWithResidual(importance, residual) : GradientSplit.Greedy(importance, sizes));
    }
}
