using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/coactivation</c>: v1's co-activation (MoEfication) split — a balanced partition of each layer's neuron
/// co-activation graph (from a <c>calibrate</c> stage with <c>coactivation: true</c>), so neurons that fire together
/// share an expert.
/// </summary>
[PipelineStep("split-mlp/coactivation", typeof(SeededSplitOptions),
    Description = "Split MLP neurons by a balanced partition of their calibration co-activation graph (LLaMA-MoE v1 graph split).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class CoactivationSplitStep : ConstructionSplitStep<SeededSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "coactivation";
}
