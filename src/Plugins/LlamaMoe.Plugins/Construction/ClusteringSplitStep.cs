using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/clustering</c>: v1's independent clustering split — each layer's (L2-normalised) up_proj or gate_proj
/// rows clustered by size-constrained k-means into experts of exact sizes.
/// </summary>
[PipelineStep("split-mlp/clustering", typeof(ClusteringSplitOptions),
    Description = "Split MLP neurons by balanced k-means of their weight rows (LLaMA-MoE v1 clustering split).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class ClusteringSplitStep : ConstructionSplitStep<ClusteringSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "clustering";

    /// <inheritdoc />
    protected override SplitSettings SettingsOf(ClusteringSplitOptions options) =>
        new(options.Weights == ClusteringWeights.Gate ? MlpRows.Gate : MlpRows.Up, options.Iterations, options.Normalize);
}
