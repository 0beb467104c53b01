using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/random</c>: v1's independent random split, reproducible — a seeded shuffle of each layer's neurons cut
/// into experts of balanced (or explicit) sizes.
/// </summary>
[PipelineStep("split-mlp/random", typeof(SeededSplitOptions),
    Description = "Split every layer's MLP neurons into experts by a seeded random shuffle (LLaMA-MoE v1 random split).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class RandomSplitStep : MlpSplitterStep<SeededSplitOptions>
{
    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) =>
        PartitionConversion.ToPublic(SimpleSplits.Random(layer.Intermediate, experts, seed));

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(SeededSplitOptions options) =>
        new FunctionSplitter((layer, experts, seed) =>
            PartitionConversion.ToPublic(SimpleSplits.Random(layer.Intermediate, experts, options.LayerSeed(layer.LayerIndex, seed), options.Sizes)));
}
