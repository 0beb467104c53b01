namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// Reads a model folder's MLP weights layer by layer as float arrays. The engine ships one for the
/// <see cref="MlpWeightsFolder"/> format; plugin assemblies add more (for example safetensors models) by exporting
/// an implementation with <c>[Export(typeof(IMlpWeightSource))]</c>; the engine registers every export as a service.
/// </summary>
public interface IMlpWeightSource
{
    /// <summary>True when this source understands the folder.</summary>
    bool CanRead(string modelDirectory);

    /// <summary>The layers in order; each is materialised only when enumerated.</summary>
    IEnumerable<MlpLayerWeights> ReadLayers(string modelDirectory, CancellationToken cancellationToken);
}
