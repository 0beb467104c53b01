using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/coactivation</c>: v1's co-activation (MoEfication) split — a balanced partition of each layer's neuron
/// co-activation graph (from a <c>calibrate</c> stage with <c>coactivation: true</c>), so neurons that fire together
/// share an expert.
/// </summary>
[PipelineStep("split-mlp/coactivation", typeof(SeededSplitOptions),
    Description = "Split MLP neurons by a balanced partition of their calibration co-activation graph (LLaMA-MoE v1 graph split).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class CoactivationSplitStep : CalibratedSplitStep<SeededSplitOptions>
{
    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        PartitionConversion.ToPublic(CoactivationSplit.Split(Coactivation(layer), layer.Intermediate, experts, seed));

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(SeededSplitOptions options) =>
        new FunctionSplitter((layer, experts, seed) =>
            PartitionConversion.ToPublic(CoactivationSplit.Split(Coactivation(layer), layer.Intermediate, experts, options.LayerSeed(layer.LayerIndex, seed), options.Sizes)));
}
