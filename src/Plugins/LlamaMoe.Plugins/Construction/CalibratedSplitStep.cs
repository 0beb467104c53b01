using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using Microsoft.Extensions.DependencyInjection;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Base of splitters that need calibration statistics. Through the public contract they read
/// <see cref="MlpLayerWeights.Calibration"/>: <c>coactivation</c> (the row-major <c>(I, I)</c> graph, flattened) and
/// <c>importance/e</c> (expert e's per-neuron importance). As steps they load the stage's calibration input and attach
/// each layer's statistics before splitting. Overlapping partitions (inner sharing) are allowed when
/// <see cref="AllowsOverlap"/> says so.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
public abstract class CalibratedSplitStep<TOptions> : MlpSplitterStep<TOptions>
    where TOptions : MlpSplitterOptions
{
    /// <summary>The statistics key of the flattened co-activation graph.</summary>
    public const string CoactivationKey = "coactivation";

    /// <summary>The statistics key prefix of per-expert importance (<c>importance/0</c> ...).</summary>
    public const string ImportancePrefix = "importance/";

    /// <summary>Whether experts may share neurons and leave some out.</summary>
    protected virtual bool AllowsOverlap => false;

    /// <summary>The layer's importance, one array per cluster (LMOE2403 when absent).</summary>
    protected static float[][] Importance(MlpLayerWeights layer)
    {
        var stats = layer.Calibration?.PerNeuron;
        var arrays = Enumerable.Range(0, int.MaxValue).TakeWhile(e => stats?.ContainsKey(ImportancePrefix + e) == true).Select(e => stats![ImportancePrefix + e]).ToArray();
        return arrays.Length > 0 ? arrays
            : throw CalibrationInput.Lacks(layer.LayerIndex, "per-cluster importance", "Run 'calibrate' with 'importance: true' (after a router-init/kmeans stage) and put it in needs.");
    }

    /// <summary>The layer's flattened co-activation graph (LMOE2403 when absent).</summary>
    protected static float[] Coactivation(MlpLayerWeights layer) =>
        layer.Calibration?.PerNeuron.TryGetValue(CoactivationKey, out var graph) == true ? graph
            : throw CalibrationInput.Lacks(layer.LayerIndex, "co-activation graph", "Run 'calibrate' with 'coactivation: true' and put it in needs.");

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var modelDirectory = DenseModelConfig.Resolve(context, options.Model);
        var source = context.Services.GetServices<IMlpWeightSource>().FirstOrDefault(s => s.CanRead(modelDirectory))
            ?? throw new LlamaMoeException("LMOE1052", "no registered weight source can read this model folder", modelDirectory,
                advice: "Load the plugin assembly that reads this model format through 'plugins:'.");
        using var calibration = CalibrationInput.Load(context, "its statistics");
        var splitter = CreateSplitter(options);
        var seeds = context.Services.GetRequiredService<ISeedSource>();
        var layers = new List<PublicPartition>();
        var intermediate = 0;
        foreach (var dense in source.ReadLayers(modelDirectory, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            intermediate = dense.Intermediate;
            if (dense.LayerIndex >= calibration.Layers.Count || calibration.IntermediateSize != dense.Intermediate)
            {
                throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch, $"the calibration ({calibration.Layers.Count} layers, I={calibration.IntermediateSize}) does not fit layer {dense.LayerIndex} (I={dense.Intermediate})",
                    key: context.StageId, advice: "Calibrate the same dense model that is split.");
            }

            var layer = new MlpLayerWeights(dense.LayerIndex, dense.Hidden, dense.Intermediate, dense.Gate.ToArray(), dense.Up.ToArray(), dense.Down.ToArray(), Statistics(calibration.Layers[dense.LayerIndex]));
            var partition = splitter.SplitLayer(layer, options.Experts, seeds.Derive($"{context.StageId}/layer-{layer.LayerIndex}"));
            var problem = partition.Experts.Count != options.Experts ? $"returned {partition.Experts.Count} experts, expected {options.Experts}"
                : AllowsOverlap ? partition.Experts.SelectMany(e => e).Any(n => n < 0 || n >= intermediate) ? "a neuron index is out of range" : null
                : partition.Check(intermediate);
            if (problem is not null)
            {
                throw new LlamaMoeException("LMOE2050", $"the splitter's partition of layer {layer.LayerIndex} is invalid: {problem}", key: context.StageId);
            }

            layers.Add(partition);
            context.Progress.Report(layers.Count, calibration.Layers.Count, $"layer {layer.LayerIndex}");
        }

        new ModelPartition(intermediate, layers).Write(context.OutputDirectory);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["layers"] = layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    private static CalibrationStatistics Statistics(LayerCalibration layer)
    {
        var stats = new Dictionary<string, float[]>(StringComparer.Ordinal)
        {
            ["activation-mean-abs"] = layer.MeanAbsActivation.data<float>().ToArray(),
            ["active-frequency"] = layer.ActiveFrequency.data<float>().ToArray(),
        };
        if (layer.CoactivationArray() is { } graph)
        {
            stats[CoactivationKey] = graph;
        }

        var importance = layer.ImportanceArrays() ?? [];
        for (var e = 0; e < importance.Length; e++)
        {
            stats[ImportancePrefix + e] = importance[e];
        }

        return new CalibrationStatistics(stats);
    }
}
