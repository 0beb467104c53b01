namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// The public contract for custom MLP splitters: given one layer's gate/up/down weights (and optional calibration
/// statistics) return which intermediate neurons each expert gets. <see cref="MlpSplitterStep{TOptions}"/> turns an
/// implementation into a pipeline step that reads a model layer by layer and writes an
/// <see cref="ArtifactKinds.ExpertPartition"/> artifact.
/// </summary>
public interface IMlpSplitter
{
    /// <summary>Partitions the <c>I</c> intermediate neurons of one layer into <paramref name="experts"/> experts.</summary>
    /// <param name="layer">The layer's weights, row-major: gate and up <c>(I, H)</c>, down <c>(H, I)</c>.</param>
    /// <param name="experts">The number of experts to produce.</param>
    /// <param name="seed">The layer's seed, <see cref="ConstructionSeed.ForLayer"/>(pipeline seed, layer index).</param>
    ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed);
}
