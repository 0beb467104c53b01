using LlamaMoe.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MyModel.Splitter;

/// <summary>
/// The <c>split-mlp/down-norm-snake</c> step: the engine reads the model layer by layer, this splits each layer by the
/// L2 norm of its down-projection columns (how much each neuron can write into the residual stream), dealt in snake
/// order: sorted strongest first, neurons go to experts 0,1,..,E-1,E-1,..,1,0,0,1,.. so every expert gets an equal
/// count (±1) and a near-equal share of the total output norm. Deterministic: ties break by neuron index, the seed is
/// not used. Only the down weight is read; gate and up stay on disk.
/// </summary>
[PipelineStep("split-mlp/down-norm-snake", typeof(SnakeSplitOptions),
    Description = "Split MLP neurons into experts by down-projection column norm, dealt in snake order for balance.",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class SnakeSplitStep : MlpSplitterStep<SnakeSplitOptions>
{
    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerInput layer, SnakeSplitOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        var experts = options.Experts;
        var norms = DownColumnNorms(layer);
        var order = Enumerable.Range(0, layer.Intermediate)
            .OrderBy(n => options.Descending ? -norms[n] : norms[n])
            .ThenBy(n => n)
            .ToArray();
        var assignment = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToArray();
        for (var rank = 0; rank < order.Length; rank++)
        {
            var round = rank / experts;
            var position = rank % experts;
            var expert = round % 2 == 0 ? position : experts - 1 - position;
            assignment[expert].Add(order[rank]);
        }

        return ExpertPartition.Disjoint(layer.Intermediate, assignment);
    }

    /// <summary>Per neuron i, the L2 norm of column i of down (H, I) row-major.</summary>
    public static double[] DownColumnNorms(MlpLayerInput layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var down = layer.Down.Span;
        var norms = new double[layer.Intermediate];
        for (var h = 0; h < layer.Hidden; h++)
        {
            var row = down.Slice(h * layer.Intermediate, layer.Intermediate);
            for (var i = 0; i < row.Length; i++)
            {
                norms[i] += (double)row[i] * row[i];
            }
        }

        for (var i = 0; i < norms.Length; i++)
        {
            norms[i] = Math.Sqrt(norms[i]);
        }

        return norms;
    }
}
