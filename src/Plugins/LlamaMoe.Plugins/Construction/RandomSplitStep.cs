using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/random</c>: v1's independent random split, reproducible — a seeded shuffle of each layer's neurons cut
/// into experts of balanced (or explicit) sizes.
/// </summary>
[PipelineStep("split-mlp/random", typeof(SeededSplitOptions),
    Description = "Split every layer's MLP neurons into experts by a seeded random shuffle (LLaMA-MoE v1 random split).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class RandomSplitStep : ConstructionSplitStep<SeededSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "random";
}
