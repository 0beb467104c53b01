namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// One layer's MLP weights as plain row-major float arrays (SwiGLU: <c>down(silu(gate x) * up x)</c>), for writing
/// fixtures (<see cref="MlpWeightsFolder.Write"/>) and for <see cref="MlpLayerInput.FromWeights"/> in tests.
/// </summary>
public sealed class MlpLayerWeights
{
    /// <summary>Wraps the arrays after checking their lengths.</summary>
    public MlpLayerWeights(int layerIndex, int hidden, int intermediate, float[] gate, float[] up, float[] down)
    {
        var expected = checked(hidden * intermediate);
        if (hidden <= 0 || intermediate <= 0 || gate.Length != expected || up.Length != expected || down.Length != expected)
        {
            throw new ArgumentException($"layer {layerIndex}: expected gate/up/down of {intermediate}x{hidden} floats, got {gate.Length}/{up.Length}/{down.Length}");
        }

        LayerIndex = layerIndex;
        Hidden = hidden;
        Intermediate = intermediate;
        Gate = gate;
        Up = up;
        Down = down;
    }

    /// <summary>0-based layer index.</summary>
    public int LayerIndex { get; }

    /// <summary>H, the model width.</summary>
    public int Hidden { get; }

    /// <summary>I, the intermediate (neuron) count.</summary>
    public int Intermediate { get; }

    /// <summary>gate_proj weight, (I, H) row-major.</summary>
    public float[] Gate { get; }

    /// <summary>up_proj weight, (I, H) row-major.</summary>
    public float[] Up { get; }

    /// <summary>down_proj weight, (H, I) row-major.</summary>
    public float[] Down { get; }

    /// <summary>The weight of one projection.</summary>
    public float[] Of(MlpProjection projection) => projection switch
    {
        MlpProjection.Gate => Gate,
        MlpProjection.Up => Up,
        _ => Down,
    };
}
