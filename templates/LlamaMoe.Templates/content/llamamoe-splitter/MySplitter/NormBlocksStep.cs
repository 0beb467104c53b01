using LlamaMoe;
using LlamaMoe.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MySplitter;

/// <summary>
/// The <c>split-mlp/norm-blocks</c> step: the engine reads the model layer by layer, this splits each layer into
/// contiguous blocks of its neurons sorted by importance, where a neuron's importance is the product of the L2 norms of
/// its gate row and its up row (a bound on how strongly it can fire). Expert 0 gets the most important block. Block
/// sizes differ by at most one. Deterministic: ties break by neuron index. Only gate and up are read; down stays on disk.
/// </summary>
[PipelineStep("split-mlp/norm-blocks", typeof(MlpSplitterOptions),
    Description = "Split MLP neurons into experts as contiguous blocks of neurons sorted by gate-norm times up-norm.",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class NormBlocksStep : MlpSplitterStep<MlpSplitterOptions>
{
    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerInput layer, MlpSplitterOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        var experts = options.Experts;
        if (experts < 1 || experts > layer.Intermediate)
        {
            throw new LlamaMoeException(ContractErrorCodes.InvalidPartition, $"layer {layer.Index} has {layer.Intermediate} neurons, which cannot make {experts} non-empty experts",
                key: "experts", advice: $"Use between 1 and {layer.Intermediate} experts.");
        }

        var importance = Importance(layer);
        var order = Enumerable.Range(0, layer.Intermediate).OrderByDescending(n => importance[n]).ThenBy(n => n).ToArray();
        var blocks = new int[experts][];
        var start = 0;
        for (var e = 0; e < experts; e++)
        {
            var size = layer.Intermediate / experts + (e < layer.Intermediate % experts ? 1 : 0);
            blocks[e] = order[start..(start + size)];
            start += size;
        }

        return ExpertPartition.Disjoint(layer.Intermediate, blocks);
    }

    /// <summary>Per neuron n: |gate row n| * |up row n| (gate and up are (I, H) row-major).</summary>
    public static double[] Importance(MlpLayerInput layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var importance = new double[layer.Intermediate];
        for (var n = 0; n < layer.Intermediate; n++)
        {
            double gateSquares = 0, upSquares = 0;
            foreach (var w in layer.GateRow(n))
            {
                gateSquares += (double)w * w;
            }

            foreach (var w in layer.UpRow(n))
            {
                upSquares += (double)w * w;
            }

            importance[n] = Math.Sqrt(gateSquares) * Math.Sqrt(upSquares);
        }

        return importance;
    }
}
