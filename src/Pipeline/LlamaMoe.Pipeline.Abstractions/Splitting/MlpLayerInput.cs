using LlamaMoe.Construction;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// What a splitter sees of one layer: its index and shape, its calibration <see cref="Statistics"/> when a calibration
/// stage is in needs, and its weights, each read from the model only when first asked for. A splitter that works from
/// the statistics alone therefore never loads the layer's MLP weights.
/// </summary>
public sealed class MlpLayerInput
{
    private readonly Func<MlpProjection, float[]> load;
    private readonly float[]?[] loaded = new float[3][];

    /// <summary>Describes one layer.</summary>
    /// <param name="index">0-based layer index.</param>
    /// <param name="hidden">H, the model width.</param>
    /// <param name="intermediate">I, the neuron count.</param>
    /// <param name="load">Reads one projection, row-major: <c>(I, H)</c> for gate and up, <c>(H, I)</c> for down.</param>
    /// <param name="statistics">The layer's calibration statistics, or null when not calibrated.</param>
    public MlpLayerInput(int index, int hidden, int intermediate, Func<MlpProjection, float[]> load, LayerStatistics? statistics = null)
    {
        ArgumentNullException.ThrowIfNull(load);
        Index = index;
        Hidden = hidden;
        Intermediate = intermediate;
        Statistics = statistics;
        this.load = load;
    }

    /// <summary>0-based layer index.</summary>
    public int Index { get; }

    /// <summary>H, the model width.</summary>
    public int Hidden { get; }

    /// <summary>I, the intermediate (neuron) count to split.</summary>
    public int Intermediate { get; }

    /// <summary>The layer's calibration statistics, or null when no calibration stage is in needs.</summary>
    public LayerStatistics? Statistics { get; }

    /// <summary>gate_proj weight, <c>(I, H)</c> row-major; read on first use.</summary>
    public ReadOnlyMemory<float> Gate => Weight(MlpProjection.Gate);

    /// <summary>up_proj weight, <c>(I, H)</c> row-major; read on first use.</summary>
    public ReadOnlyMemory<float> Up => Weight(MlpProjection.Up);

    /// <summary>down_proj weight, <c>(H, I)</c> row-major; read on first use.</summary>
    public ReadOnlyMemory<float> Down => Weight(MlpProjection.Down);

    /// <summary>The layer's statistics (LMOE2207 when the layer is not calibrated).</summary>
    public LayerStatistics RequireStatistics() =>
        Statistics ?? throw LayerStatistics.Lacks(Index, "statistics", "Add a 'calibrate' stage to needs.");

    /// <summary>Row <paramref name="neuron"/> of gate, length H.</summary>
    public ReadOnlySpan<float> GateRow(int neuron) => Gate.Span.Slice(neuron * Hidden, Hidden);

    /// <summary>Row <paramref name="neuron"/> of up, length H.</summary>
    public ReadOnlySpan<float> UpRow(int neuron) => Up.Span.Slice(neuron * Hidden, Hidden);

    /// <summary>The weight of one projection, row-major; read on first use (LMOE1051 when it has the wrong size).</summary>
    public ReadOnlyMemory<float> Weight(MlpProjection projection)
    {
        var slot = (int)projection;
        if (loaded[slot] is { } weight)
        {
            return weight;
        }

        var read = load(projection);
        var expected = (long)Hidden * Intermediate;
        return read.Length == expected ? loaded[slot] = read
            : throw new LlamaMoeException(ContractErrorCodes.MlpWeightsFileInvalid, $"layer {Index}: the {projection} weight has {read.Length} floats, expected {expected}",
                advice: "Check that the model's weights match its config.");
    }

    /// <summary>A layer over weights already in memory (for tests and fixtures).</summary>
    /// <param name="weights">The layer's weights.</param>
    /// <param name="statistics">The layer's calibration statistics, or null.</param>
    public static MlpLayerInput FromWeights(MlpLayerWeights weights, LayerStatistics? statistics = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return new MlpLayerInput(weights.LayerIndex, weights.Hidden, weights.Intermediate, weights.Of, statistics);
    }
}
