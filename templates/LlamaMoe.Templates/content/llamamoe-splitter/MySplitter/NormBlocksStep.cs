using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MySplitter;

/// <summary>The <c>split-mlp/norm-blocks</c> step: the engine reads the model layer by layer, this splits each layer.</summary>
[PipelineStep("split-mlp/norm-blocks", typeof(MlpSplitterOptions),
    Description = "Split MLP neurons into experts as contiguous blocks of neurons sorted by gate-norm times up-norm.",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class NormBlocksStep : MlpSplitterStep<MlpSplitterOptions>
{
    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        new NormBlocksSplitter().SplitLayer(layer, experts, seed);
}
