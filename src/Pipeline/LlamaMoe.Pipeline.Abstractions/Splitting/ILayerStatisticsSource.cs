using LlamaMoe.Construction;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// Reads a calibration artifact's per-layer statistics in the typed form splitters take. The built-in plugins export
/// one for the <see cref="ArtifactKinds.Calibration"/> artifact of <c>calibrate</c> with
/// <c>[Export(typeof(ILayerStatisticsSource))]</c>; the engine registers every export as a service.
/// </summary>
public interface ILayerStatisticsSource
{
    /// <summary>True when this source understands the calibration folder.</summary>
    bool CanRead(string calibrationDirectory);

    /// <summary>Opens the calibration folder.</summary>
    ILayerStatisticsReader Open(string calibrationDirectory);
}

/// <summary>An open calibration artifact.</summary>
public interface ILayerStatisticsReader : IDisposable
{
    /// <summary>
    /// The statistics of one layer of <paramref name="intermediate"/> neurons; a coded error when the calibration does
    /// not cover that layer or has another neuron count.
    /// </summary>
    LayerStatistics Read(int layer, int intermediate);
}
