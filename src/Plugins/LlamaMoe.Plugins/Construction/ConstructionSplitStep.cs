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
/// Methods that read no weights (all but clustering) take a dense LLaMA's shapes from <c>config.json</c> and never load
/// its MLP weights; other model folders are read through the registered <see cref="IMlpWeightSource"/>s.
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
        return Split(layer.LayerIndex, layer.Intermediate, layer.Hidden, rows => (rows == MlpRows.Gate ? layer.Gate : layer.Up).ToArray(), StatisticsOf(layer), experts, seed, 0, null, SplitSettings.Default);
    }

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        var method = ConstructionMethods.Split(MethodName);
        using var calibration = method.NeedsImportance || method.NeedsCoactivation ? CalibrationInput.Load(context, "its statistics") : CalibrationInput.LoadOptional(context);
        var sized = options as SizedSplitOptions;
        var seed = (options as SeededSplitOptions)?.Seed ?? context.Services.GetRequiredService<ISeedSource>().Seed;
        var settings = SettingsOf(options);
        PublicPartition SplitOne(int layer, int intermediate, int hidden, int layerSeed, Func<MlpRows, float[]> readRows) =>
            Split(layer, intermediate, hidden, readRows, StatisticsFor(context, calibration, method, layer, intermediate, options.Experts), options.Experts, layerSeed, sized?.Residual ?? 0, sized?.Sizes, settings);

        var modelDirectory = ModelDirectoryOf(context, options);
        if (method.ReadsWeights || !DenseModelConfig.IsDenseLlama(modelDirectory))
        {
            SplitEveryLayer(context, options, (layer, layerSeed) =>
                SplitOne(layer.LayerIndex, layer.Intermediate, layer.Hidden, layerSeed, rows => (rows == MlpRows.Gate ? layer.Gate : layer.Up).ToArray()), seed, AllowsOverlap, calibration?.Layers.Count ?? 0, cancellationToken);
            return Task.CompletedTask;
        }

        // The method never reads weights: take the shapes from config.json and leave the checkpoint unread.
        var config = DenseModelConfig.Read(modelDirectory);
        var layers = new List<PublicPartition>();
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var partition = SplitOne(layer, config.IntermediateSize, config.HiddenSize, ConstructionSeed.ForLayer(seed, layer),
                _ => throw new InvalidOperationException($"split method '{method.Name}' says it reads no weights"));
            layers.Add(Checked(context, options, layer, config.IntermediateSize, partition, AllowsOverlap));
            context.Progress.Report(layers.Count, config.NumHiddenLayers, $"layer {layer}");
        }

        WritePartition(context, options, config.IntermediateSize, layers);
        return Task.CompletedTask;
    }

    // The layer's statistics from the calibration input (null without one), checked against the layer and the method.
    private static LayerStatistics? StatisticsFor(IStepContext context, CalibrationArtifact? calibration, ISplitMethod method, int layer, int intermediate, int experts)
    {
        if (calibration is null)
        {
            return null;
        }

        if (layer >= calibration.Layers.Count || calibration.IntermediateSize != intermediate)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration ({calibration.Layers.Count} layers, I={calibration.IntermediateSize}) does not fit layer {layer} (I={intermediate})",
                key: context.StageId, advice: "Calibrate the same dense model that is split.");
        }

        var statistics = LayerStatistics.From(calibration.Layers[layer]);
        CheckStatistics(method, statistics, layer, experts);
        return statistics;
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

    private PublicPartition Split(int layer, int intermediate, int hidden, Func<MlpRows, float[]> readRows, LayerStatistics? statistics, int experts, int seed, int residual, IReadOnlyList<int>? sizes, SplitSettings settings)
    {
        var request = new SplitRequest(layer, intermediate, hidden, experts, seed, statistics, readRows)
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
