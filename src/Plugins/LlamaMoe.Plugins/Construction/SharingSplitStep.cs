using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/sharing</c>: v1's inner-sharing gradient split — every expert takes its own most important neurons
/// (per-cluster importance from <c>calibrate</c>), so experts may overlap and unimportant neurons may be dropped.
/// </summary>
[PipelineStep("split-mlp/sharing", typeof(SharingSplitOptions),
    Description = "Give every expert its own most important neurons by cluster importance; experts may overlap (LLaMA-MoE v1 inner sharing).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SharingSplitStep : CalibratedSplitStep<SharingSplitOptions>
{
    /// <inheritdoc />
    protected override bool AllowsOverlap => true;

    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) => Split(layer, experts, null);

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(SharingSplitOptions options) =>
        new FunctionSplitter((layer, experts, _) => Split(layer, experts, options.ExpertSize));

    private static PublicPartition Split(MlpLayerWeights layer, int experts, int? expertSize)
    {
        var importance = Importance(layer);
        if (importance.Length != experts)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration's importance covers {importance.Length} clusters, the split asks for {experts} experts",
                key: "experts", advice: "Calibrate the importance with a router of the same expert count.");
        }

        return PartitionConversion.ToPublic(GradientSplit.Sharing(importance, expertSize ?? Math.Max(1, layer.Intermediate / experts)));
    }
}
