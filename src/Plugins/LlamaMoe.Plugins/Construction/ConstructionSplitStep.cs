using System.Runtime.InteropServices;
using LlamaMoe.Construction;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Base of the built-in <c>split-mlp/*</c> steps: each is one <see cref="SplitLayer"/> that runs one method of
/// <see cref="ConstructionMethods"/> (the registry <c>llama-moe convert --split</c> uses too); the layer loop, the seed
/// rule <see cref="ConstructionSeed.ForLayer"/>(seed, layer) and the checks are <see cref="MlpSplitterStep{TOptions}"/>'s.
/// A calibration stage in needs is required by the calibrated methods and, when present, also informs the residual
/// choice of the others (the most active sets). Only the clustering method reads MLP weights; the others never load them.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
public abstract class ConstructionSplitStep<TOptions> : MlpSplitterStep<TOptions>
    where TOptions : MlpSplitterOptions
{
    /// <summary>The registered method's name.</summary>
    protected abstract string MethodName { get; }

    /// <summary>The registered method.</summary>
    protected ISplitMethod Method => ConstructionMethods.Split(MethodName);

    /// <summary>The method-specific tuning of <paramref name="options"/>.</summary>
    protected virtual SplitSettings SettingsOf(TOptions options) => SplitSettings.Default;

    /// <inheritdoc />
    protected override int? SeedOf(TOptions options) => (options as SeededSplitOptions)?.Seed;

    /// <inheritdoc />
    protected override bool RequiresCalibration(TOptions options) => Method.NeedsImportance || Method.NeedsCoactivation;

    /// <inheritdoc />
    public override ExpertPartition SplitLayer(MlpLayerInput layer, TOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        var method = Method;
        if (layer.Statistics is { } statistics)
        {
            CheckStatistics(method, statistics, layer.Index, options.Experts);
        }

        var sized = options as SizedSplitOptions;
        var request = new SplitRequest(layer.Index, layer.Intermediate, layer.Hidden, options.Experts, seed, layer.Statistics, rows => ArrayOf(layer.Weight(rows == MlpRows.Gate ? MlpProjection.Gate : MlpProjection.Up)))
        {
            ResidualExperts = sized?.Residual ?? 0,
            Sizes = sized?.Sizes,
            Settings = SettingsOf(options),
        };
        return method.Split(request);
    }

    // The pipeline's own diagnostics for a calibration stage that lacks what the method reads (LMOE2403) or covers other experts (LMOE2405).
    private static void CheckStatistics(ISplitMethod method, LayerStatistics statistics, int layer, int experts)
    {
        if (method.NeedsCoactivation && statistics.Coactivation is null)
        {
            throw CalibrationInput.Lacks(layer, "co-activation graph", "Run 'calibrate' with 'coactivation: true' and put it in needs.");
        }

        if (method.NeedsImportance && statistics.Importance is null)
        {
            throw CalibrationInput.Lacks(layer, "per-cluster importance", "Run 'calibrate' with 'importance: true' (after a router-init/kmeans stage) and put it in needs.");
        }

        if (method.NeedsImportance && statistics.Importance!.Count != experts)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration's importance covers {statistics.Importance.Count} clusters, the split asks for {experts} experts",
                key: "experts", advice: "Calibrate the importance with a router of the same expert count.");
        }
    }

    // The weight as the array it was read into (no copy); split methods only read it.
    private static float[] ArrayOf(ReadOnlyMemory<float> weight) =>
        MemoryMarshal.TryGetArray(weight, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : weight.ToArray();
}
