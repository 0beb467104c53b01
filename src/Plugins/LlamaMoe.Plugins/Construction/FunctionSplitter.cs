using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>An <see cref="IMlpSplitter"/> made from a function (a splitter step configured by its options).</summary>
/// <param name="split">Splits one layer: (layer, experts, seed) → partition.</param>
internal sealed class FunctionSplitter(Func<MlpLayerWeights, int, int, ExpertPartition> split) : IMlpSplitter
{
    /// <inheritdoc />
    public ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed) => split(layer, experts, seed);
}
