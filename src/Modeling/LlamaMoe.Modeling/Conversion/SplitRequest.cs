using LlamaMoe.Construction;
using LlamaMoe.Modeling.Calibration;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>Which dense MLP weight rows a split reads.</summary>
public enum MlpRows
{
    /// <summary>up_proj rows <c>(I, H)</c>.</summary>
    Up,

    /// <summary>gate_proj rows <c>(I, H)</c>.</summary>
    Gate,
}

/// <summary>Reads a calibrated layer's statistics into the typed form split methods take.</summary>
public static class LayerCalibrationStatistics
{
    /// <summary>The statistics of one calibrated layer (active frequency, co-activation and importance when present).</summary>
    public static LayerStatistics Statistics(this LayerCalibration layer) =>
        new(layer.ActiveFrequency.contiguous().data<float>().ToArray(), layer.CoactivationArray(), layer.ImportanceArrays());
}

/// <summary>Method-specific tuning of the split methods (defaults are the published recipes').</summary>
/// <param name="ClusteringRows">Rows the clustering split clusters (v1: up).</param>
/// <param name="ClusteringIterations">Balanced k-means iterations of the clustering split (v1: 500).</param>
/// <param name="ClusteringNormalize">L2-normalise the rows before clustering (v1 does).</param>
/// <param name="SharingExpertSize">Neurons per expert of the sharing split; null for I/E.</param>
public sealed record SplitSettings(
    MlpRows ClusteringRows = MlpRows.Up,
    int ClusteringIterations = 500,
    bool ClusteringNormalize = true,
    int? SharingExpertSize = null)
{
    /// <summary>The published recipes' settings.</summary>
    public static SplitSettings Default { get; } = new();
}

/// <summary>Everything a split method needs for one layer.</summary>
/// <param name="Layer">The decoder layer index.</param>
/// <param name="Neurons">I, the layer's intermediate neurons.</param>
/// <param name="Hidden">H.</param>
/// <param name="Experts">Routed experts E.</param>
/// <param name="Seed">The layer's seed (<see cref="ConstructionSeed.ForLayer"/>).</param>
/// <param name="Statistics">The layer's calibration statistics, or null when not calibrated.</param>
/// <param name="ReadRows">Reads one weight matrix's rows <c>(I, H)</c> on demand (only methods that use weights call it).</param>
public sealed record SplitRequest(int Layer, int Neurons, int Hidden, int Experts, int Seed, LayerStatistics? Statistics, Func<MlpRows, float[]> ReadRows)
{
    /// <summary>Shares of m = I/(E+N) given to the always-on residual expert; 0 for none.</summary>
    public int ResidualExperts { get; init; }

    /// <summary>Explicit neurons per routed expert, or null for balanced sizes.</summary>
    public IReadOnlyList<int>? Sizes { get; init; }

    /// <summary>Method-specific tuning.</summary>
    public SplitSettings Settings { get; init; } = SplitSettings.Default;

    /// <summary>The layer's importance (LMOE2207 when the calibration lacks it).</summary>
    public IReadOnlyList<float[]> RequireImportance() => Statistics?.RequireImportance(Layer) ?? throw LayerStatistics.Lacks(Layer, "per-cluster importance", "Calibrate with importance (clusters = experts).");

    /// <summary>The layer's co-activation graph (LMOE2207 when the calibration lacks it).</summary>
    public float[] RequireCoactivation() => Statistics?.RequireCoactivation(Layer) ?? throw LayerStatistics.Lacks(Layer, "co-activation graph", "Calibrate with co-activation.");
}
