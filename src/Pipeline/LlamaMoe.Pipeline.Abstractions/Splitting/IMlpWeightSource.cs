namespace LlamaMoe.Pipeline.Splitting;

/// <summary>One of a SwiGLU MLP's three weight matrices.</summary>
public enum MlpProjection
{
    /// <summary>gate_proj, <c>(I, H)</c>.</summary>
    Gate,

    /// <summary>up_proj, <c>(I, H)</c>.</summary>
    Up,

    /// <summary>down_proj, <c>(H, I)</c>.</summary>
    Down,
}

/// <summary>The MLP shape of a model: its layer count, width H and intermediate size I.</summary>
/// <param name="Layers">The decoder layer count.</param>
/// <param name="Hidden">H, the model width.</param>
/// <param name="Intermediate">I, the MLP's intermediate (neuron) count.</param>
public sealed record MlpShape(int Layers, int Hidden, int Intermediate);

/// <summary>
/// Reads a model folder's MLP weights one matrix at a time. The engine ships one for the <see cref="MlpWeightsFolder"/>
/// format; plugin assemblies add more (the built-in plugins read safetensors models) by exporting an implementation
/// with <c>[Export(typeof(IMlpWeightSource))]</c>; the engine registers every export as a service.
/// </summary>
public interface IMlpWeightSource
{
    /// <summary>True when this source understands the folder.</summary>
    bool CanRead(string modelDirectory);

    /// <summary>Opens the folder: the shape is read at once, weights only when <see cref="IMlpWeightReader.Read"/> asks.</summary>
    IMlpWeightReader Open(string modelDirectory);
}

/// <summary>An open model folder whose MLP weights are read on demand.</summary>
public interface IMlpWeightReader : IDisposable
{
    /// <summary>The model's MLP shape.</summary>
    MlpShape Shape { get; }

    /// <summary>One projection of one layer as row-major float32: <c>(I, H)</c> for gate and up, <c>(H, I)</c> for down.</summary>
    float[] Read(int layer, MlpProjection projection);
}
