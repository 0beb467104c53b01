using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MagnitudeSplitter;

/// <summary>The <c>split-mlp/magnitude</c> step: reads the model layer by layer and writes an expert partition.</summary>
[PipelineStep("split-mlp/magnitude", typeof(MagnitudeOptions),
    Description = "Split MLP neurons into experts by the L2 norm of their gate/up rows (round-robin or contiguous).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class MagnitudeSplitStep : MlpSplitterStep<MagnitudeOptions>
{
    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        new MagnitudeSplitter(DealMode.RoundRobin, 0).SplitLayer(layer, experts, seed);

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(MagnitudeOptions options) => new MagnitudeSplitter(options.Mode, options.Residual);
}
