using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/sharing</c>: v1's inner-sharing gradient split — every expert takes its own most important neurons
/// (per-cluster importance from <c>calibrate</c>), so experts may overlap and unimportant neurons may be dropped.
/// </summary>
[PipelineStep("split-mlp/sharing", typeof(SharingSplitOptions),
    Description = "Give every expert its own most important neurons by cluster importance; experts may overlap (LLaMA-MoE v1 inner sharing).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SharingSplitStep : ConstructionSplitStep<SharingSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "sharing";

    /// <inheritdoc />
    protected override SplitSettings SettingsOf(SharingSplitOptions options) => SplitSettings.Default with { SharingExpertSize = options.ExpertSize };
}
