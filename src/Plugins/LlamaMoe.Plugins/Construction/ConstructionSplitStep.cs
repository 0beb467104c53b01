using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using Microsoft.Extensions.DependencyInjection;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Base of the built-in <c>split-mlp/*</c> steps: each runs one method of <see cref="ConstructionMethods"/> (the registry
/// <c>llama-moe convert --split</c> uses too) with the layer seed <see cref="ConstructionSeed.ForLayer"/>(seed, layer),
/// where seed is the step's <c>seed</c> option or the pipeline seed. A calibration stage in needs is required by the
/// calibrated methods and, when present, also informs the residual choice of the others (the most active sets).
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
public abstract class ConstructionSplitStep<TOptions> : MlpSplitterStep<TOptions>
    where TOptions : MlpSplitterOptions
{
    /// <summary>The statistics key of the flattened co-activation graph in <see cref="MlpLayerWeights.Calibration"/>.</summary>
    public const string CoactivationKey = "coactivation";

    /// <summary>The statistics key prefix of per-expert importance (<c>importance/0</c> ...) in <see cref="MlpLayerWeights.Calibration"/>.</summary>
    public const string ImportancePrefix = "importance/";

    /// <summary>The statistics key of the per-neuron active frequency in <see cref="MlpLayerWeights.Calibration"/>.</summary>
    public const string ActiveFrequencyKey = "active-frequency";

    /// <summary>The registered method's name.</summary>
    protected abstract string MethodName { get; }

    /// <summary>Whether experts may share neurons and leave some out.</summary>
    protected virtual bool AllowsOverlap => false;

    /// <summary>The method-specific tuning of <paramref name="options"/>.</summary>
    protected virtual SplitSettings SettingsOf(TOptions options) => SplitSettings.Default;

    /// <summary>
    /// The <see cref="IMlpSplitter"/> view (default options): the registered method on one layer, reading statistics
    /// from <see cref="MlpLayerWeights.Calibration"/> (<c>active-frequency</c>, <c>coactivation</c>, <c>importance/e</c>).
    /// </summary>
    public override PublicPartition SplitLayer(MlpLayerWeights layer, int experts, int seed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return Split(layer, StatisticsOf(layer), experts, seed, 0, null, SplitSettings.Default);
    }

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        var method = ConstructionMethods.Split(MethodName);
        using var calibration = method.NeedsImportance || method.NeedsCoactivation ? CalibrationInput.Load(context, "its statistics") : CalibrationInput.LoadOptional(context);
        var sized = options as SizedSplitOptions;
        var seed = (options as SeededSplitOptions)?.Seed ?? context.Services.GetRequiredService<ISeedSource>().Seed;
        var settings = SettingsOf(options);
        SplitEveryLayer(context, options, (layer, layerSeed) =>
        {
            LayerStatistics? statistics = null;
            if (calibration is not null)
            {
                if (layer.LayerIndex >= calibration.Layers.Count || calibration.IntermediateSize != layer.Intermediate)
                {
                    throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration ({calibration.Layers.Count} layers, I={calibration.IntermediateSize}) does not fit layer {layer.LayerIndex} (I={layer.Intermediate})",
                        key: context.StageId, advice: "Calibrate the same dense model that is split.");
                }

                statistics = LayerStatistics.From(calibration.Layers[layer.LayerIndex]);
                CheckStatistics(method, statistics, layer.LayerIndex, options.Experts);
            }

            return Split(layer, statistics, options.Experts, layerSeed, sized?.Residual ?? 0, sized?.Sizes, settings);
        }, seed, AllowsOverlap, calibration?.Layers.Count ?? 0, cancellationToken);
        return Task.CompletedTask;
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

    private PublicPartition Split(MlpLayerWeights layer, LayerStatistics? statistics, int experts, int seed, int residual, IReadOnlyList<int>? sizes, SplitSettings settings)
    {
        var request = new SplitRequest(layer.LayerIndex, layer.Intermediate, layer.Hidden, experts, seed, statistics, rows => (rows == MlpRows.Gate ? layer.Gate : layer.Up).ToArray())
        {
            ResidualExperts = residual,
            Sizes = sizes,
            Settings = settings,
        };
        return PartitionConversion.ToPublic(ConstructionMethods.Split(MethodName).Split(request));
    }

    private static LayerStatistics? StatisticsOf(MlpLayerWeights layer)
    {
        if (layer.Calibration?.PerNeuron is not { } stats)
        {
            return null;
        }

        var importance = Enumerable.Range(0, int.MaxValue).TakeWhile(e => stats.ContainsKey(ImportancePrefix + e)).Select(e => stats[ImportancePrefix + e]).ToArray();
        return new LayerStatistics(stats.GetValueOrDefault(ActiveFrequencyKey) ?? new float[layer.Intermediate], stats.GetValueOrDefault(CoactivationKey), importance.Length > 0 ? importance : null);
    }
}
