using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MyModel.Splitter;

/// <summary>The <c>split-mlp/down-norm-snake</c> step: the engine reads the model layer by layer, this splits each layer.</summary>
[PipelineStep("split-mlp/down-norm-snake", typeof(SnakeSplitOptions),
    Description = "Split MLP neurons into experts by down-projection column norm, dealt in snake order for balance.",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SnakeSplitStep : MlpSplitterStep<SnakeSplitOptions>
{
    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        new DownNormSnakeSplitter(descending: true).SplitLayer(layer, experts, seed);

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(SnakeSplitOptions options) => new DownNormSnakeSplitter(options.Descending);
}
