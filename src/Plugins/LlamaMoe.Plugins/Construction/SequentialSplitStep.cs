using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary><c>split-mlp/sequential</c>: v2's vanilla split — contiguous blocks of neurons in index order.</summary>
[PipelineStep("split-mlp/sequential", typeof(SizedSplitOptions),
    Description = "Split every layer's MLP neurons into contiguous blocks in index order (LLaMA-MoE v2 vanilla split).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SequentialSplitStep : MlpSplitterStep<SizedSplitOptions>
{
    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        PartitionConversion.ToPublic(SimpleSplits.Sequential(layer.Intermediate, experts));

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(SizedSplitOptions options) =>
        new FunctionSplitter((layer, experts, _) => PartitionConversion.ToPublic(SimpleSplits.Sequential(layer.Intermediate, experts, options.Sizes)));
}
