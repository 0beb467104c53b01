using LlamaMoe;
using LlamaMoe.Construction;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace MagnitudeSplitter;

/// <summary>
/// The <c>split-mlp/magnitude</c> step: sorts a layer's neurons by the L2 norm of their concatenated gate and up rows
/// (descending, ties by index), optionally keeps the strongest as a residual block, and deals the rest into experts.
/// The base step reads the model layer by layer, checks each partition and writes the artifact.
/// </summary>
[PipelineStep("split-mlp/magnitude", typeof(MagnitudeOptions),
    Description = "Split MLP neurons into experts by the L2 norm of their gate/up rows (round-robin or contiguous).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.ExpertPartition)]
public sealed class MagnitudeSplitStep : MlpSplitterStep<MagnitudeOptions>
{
    /// <summary>LMOE2051: the layer has fewer neurons than the experts and the residual need (this plugin's one code).</summary>
    public const string TooFewNeurons = "LMOE2051";

    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerInput layer, MagnitudeOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        var (experts, residual) = (options.Experts, options.Residual);
        if (layer.Intermediate - residual < experts)
        {
            throw new LlamaMoeException(TooFewNeurons, $"layer {layer.Index} has {layer.Intermediate} neurons; {experts} experts plus {residual} residual neurons do not fit",
                key: "experts", advice: "Use fewer experts or a smaller residual.");
        }

        var norms = new double[layer.Intermediate];
        for (var neuron = 0; neuron < layer.Intermediate; neuron++)
        {
            double sum = 0;
            foreach (var w in layer.GateRow(neuron))
            {
                sum += (double)w * w;
            }

            foreach (var w in layer.UpRow(neuron))
            {
                sum += (double)w * w;
            }

            norms[neuron] = Math.Sqrt(sum);
        }

        var order = Enumerable.Range(0, layer.Intermediate).OrderByDescending(n => norms[n]).ThenBy(n => n).ToArray();
        var groups = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToArray();
        var rest = order.Skip(residual).ToArray();
        var chunk = (rest.Length + experts - 1) / experts;
        for (var k = 0; k < rest.Length; k++)
        {
            var expert = options.Mode == DealMode.RoundRobin ? k % experts : Math.Min(k / chunk, experts - 1);
            groups[expert].Add(rest[k]);
        }

        return ExpertPartition.Disjoint(layer.Intermediate, groups, order.Take(residual));
    }
}
