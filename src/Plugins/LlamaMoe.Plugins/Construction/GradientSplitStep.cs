using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/gradient</c>: v2's importance-based split — each router cluster's per-neuron first-order importance
/// |h·∂L/∂h| (from <c>calibrate</c> with <c>importance: true</c>) drives a greedy balanced assignment; with
/// <c>residual: N</c> the neurons important to most clusters first form the shared residual expert.
/// </summary>
[PipelineStep("split-mlp/gradient", typeof(GradientSplitOptions),
    Description = "Split MLP neurons by per-cluster gradient importance, greedy and balanced, optionally with v2's residual expert.",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class GradientSplitStep : ConstructionSplitStep<GradientSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "gradient";
}
