namespace LlamaMoe.Construction;

/// <summary>
/// One layer's calibration statistics as a split method sees them: typed vectors, read from the calibration artifact
/// only for the layer being split. <c>I</c> is the layer's intermediate (neuron) count.
/// </summary>
/// <param name="ActiveFrequency">Fraction of calibration tokens with a positive activation, per neuron <c>(I)</c>.</param>
/// <param name="Coactivation">The co-activation graph <c>(I, I)</c> row-major, or null when not calibrated.</param>
/// <param name="Importance">Per-cluster importance, one <c>(I)</c> array per cluster, or null when not calibrated.</param>
public sealed record LayerStatistics(float[] ActiveFrequency, float[]? Coactivation, IReadOnlyList<float[]>? Importance)
{
    /// <summary>I, the neuron count the statistics cover.</summary>
    public int Neurons => ActiveFrequency.Length;

    /// <summary>The per-cluster importance (LMOE2207 when the calibration has none).</summary>
    /// <param name="layer">The layer index, for the message.</param>
    public IReadOnlyList<float[]> RequireImportance(int layer) =>
        Importance ?? throw Lacks(layer, "per-cluster importance", "Calibrate with importance (clusters = experts).");

    /// <summary>The co-activation graph (LMOE2207 when the calibration has none).</summary>
    /// <param name="layer">The layer index, for the message.</param>
    public float[] RequireCoactivation(int layer) =>
        Coactivation ?? throw Lacks(layer, "co-activation graph", "Calibrate with co-activation.");

    /// <summary>The coded error for a layer whose calibration lacks <paramref name="what"/> (LMOE2207).</summary>
    /// <param name="layer">The layer index.</param>
    /// <param name="what">What is missing, such as "co-activation graph".</param>
    /// <param name="advice">What to do.</param>
    public static LlamaMoeException Lacks(int layer, string what, string advice) =>
        new(CoreErrorCodes.CalibrationRequired, $"the calibration of layer {layer} has no {what}", key: "calibration", advice: advice);
}
