using System.Composition;
using LlamaMoe.Construction;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Reads the statistics of a <c>calibrate</c> artifact (<c>calibration.json</c> and its tensors) for
/// <see cref="MlpSplitterStep{TOptions}"/>: active frequency, co-activation graph and per-cluster importance, per layer.
/// </summary>
[Export(typeof(ILayerStatisticsSource))]
public sealed class CalibrationStatisticsSource : ILayerStatisticsSource
{
    /// <inheritdoc />
    public bool CanRead(string calibrationDirectory) => File.Exists(Path.Combine(calibrationDirectory, CalibrationArtifact.JsonFileName));

    /// <inheritdoc />
    public ILayerStatisticsReader Open(string calibrationDirectory)
    {
        TorchRuntime.EnsureLoaded();
        return new Reader(CalibrationArtifact.Load(calibrationDirectory));
    }

    private sealed class Reader(CalibrationArtifact calibration) : ILayerStatisticsReader
    {
        public LayerStatistics Read(int layer, int intermediate)
        {
            if (layer >= calibration.Layers.Count || calibration.IntermediateSize != intermediate)
            {
                throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration ({calibration.Layers.Count} layers, I={calibration.IntermediateSize}) does not fit layer {layer} (I={intermediate})",
                    key: "calibration", advice: "Calibrate the same dense model that is split.");
            }

            return calibration.Layers[layer].Statistics();
        }

        public void Dispose() => calibration.Dispose();
    }
}
