using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-mlp/clustering</c>: v1's independent clustering split — each layer's (L2-normalised) up_proj or gate_proj
/// rows clustered by size-constrained k-means into experts of exact sizes.
/// </summary>
[PipelineStep("split-mlp/clustering", typeof(ClusteringSplitOptions),
    Description = "Split MLP neurons by balanced k-means of their weight rows (LLaMA-MoE v1 clustering split).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class ClusteringSplitStep : MlpSplitterStep<ClusteringSplitOptions>
{
    /// <inheritdoc />
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) => Split(layer, experts, seed, new ClusteringSplitOptions());

    /// <inheritdoc />
    protected override IMlpSplitter CreateSplitter(ClusteringSplitOptions options) =>
        new FunctionSplitter((layer, experts, seed) => Split(layer, experts, options.LayerSeed(layer.LayerIndex, seed), options));

    private static PublicPartition Split(MlpLayerWeights layer, int experts, long seed, ClusteringSplitOptions options)
    {
        var rows = (options.Weights == ClusteringWeights.Up ? layer.Up : layer.Gate).ToArray(); // (I, H)
        return PartitionConversion.ToPublic(ClusteringSplit.Split(rows, layer.Intermediate, layer.Hidden, experts, seed, options.Sizes, options.Iterations, options.Normalize));
    }
}
