using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary><c>split-mlp/sequential</c>: v2's vanilla split — contiguous blocks of neurons in index order.</summary>
[PipelineStep("split-mlp/sequential", typeof(SizedSplitOptions),
    Description = "Split every layer's MLP neurons into contiguous blocks in index order (LLaMA-MoE v2 vanilla split).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Calibration],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SequentialSplitStep : ConstructionSplitStep<SizedSplitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "sequential";
}
