namespace LlamaMoe.Pipeline.Splitting;

/// <summary>One layer's MLP weights as plain row-major float arrays (SwiGLU: <c>down(silu(gate x) * up x)</c>).</summary>
public sealed class MlpLayerWeights
{
    /// <summary>Wraps the arrays after checking their lengths.</summary>
    public MlpLayerWeights(int layerIndex, int hidden, int intermediate, float[] gate, float[] up, float[] down, CalibrationStatistics? calibration = null)
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
        Calibration = calibration;
    }

    /// <summary>0-based layer index.</summary>
    public int LayerIndex { get; }

    /// <summary>H, the model width.</summary>
    public int Hidden { get; }

    /// <summary>I, the intermediate (neuron) count.</summary>
    public int Intermediate { get; }

    /// <summary>gate_proj weight, (I, H) row-major.</summary>
    public ReadOnlyMemory<float> Gate { get; }

    /// <summary>up_proj weight, (I, H) row-major.</summary>
    public ReadOnlyMemory<float> Up { get; }

    /// <summary>down_proj weight, (H, I) row-major.</summary>
    public ReadOnlyMemory<float> Down { get; }

    /// <summary>Optional calibration statistics for this layer.</summary>
    public CalibrationStatistics? Calibration { get; }

    /// <summary>Row <paramref name="neuron"/> of gate, length H.</summary>
    public ReadOnlySpan<float> GateRow(int neuron) => Gate.Span.Slice(neuron * Hidden, Hidden);

    /// <summary>Row <paramref name="neuron"/> of up, length H.</summary>
    public ReadOnlySpan<float> UpRow(int neuron) => Up.Span.Slice(neuron * Hidden, Hidden);
}

/// <summary>Per-neuron calibration statistics of one layer, by name (for example <c>activation-mean</c>), each of length I.</summary>
/// <param name="PerNeuron">Named per-neuron vectors.</param>
public sealed record CalibrationStatistics(IReadOnlyDictionary<string, float[]> PerNeuron);
