using System.Globalization;
using LlamaMoe.Construction;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// The splitter contract: derive from this, write <see cref="SplitLayer"/>, and export the class with
/// <see cref="PipelineStepAttribute"/> and <c>Produces = ArtifactKinds.ExpertPartition</c>. The step reads the model
/// (the dense-model input, or the <c>model</c> option) through a registered <see cref="IMlpWeightSource"/> and, when a
/// calibration stage is in needs, its statistics through a registered <see cref="ILayerStatisticsSource"/>; it splits
/// each layer with the seed <see cref="ConstructionSeed.ForLayer"/>(seed, layer), where seed is <see cref="SeedOf"/> (a
/// seed option) or the pipeline seed, checks each partition and writes <c>partition.json</c>. Weights are read only when
/// <see cref="SplitLayer"/> touches them.
/// </summary>
/// <typeparam name="TOptions">The step's options.</typeparam>
public abstract class MlpSplitterStep<TOptions> : PipelineStep<TOptions>
    where TOptions : MlpSplitterOptions
{
    /// <summary>
    /// Partitions the <c>I</c> intermediate neurons of one layer into <see cref="MlpSplitterOptions.Experts"/> experts.
    /// Return <see cref="ExpertPartition.Disjoint"/> (every neuron in one expert or the residual) or
    /// <see cref="ExpertPartition.Sharing"/> (experts may share neurons).
    /// </summary>
    /// <param name="layer">The layer: shape, calibration statistics and lazily read weights.</param>
    /// <param name="options">The step's options.</param>
    /// <param name="seed">The layer's seed, <see cref="ConstructionSeed.ForLayer"/>(seed, layer index).</param>
    public abstract ExpertPartition SplitLayer(MlpLayerInput layer, TOptions options, int seed);

    /// <summary>The step's own seed option, when it has one; null (the default) uses the pipeline seed.</summary>
    /// <param name="options">The step's options.</param>
    protected virtual int? SeedOf(TOptions options) => null;

    /// <summary>Whether <see cref="SplitLayer"/> needs a calibration stage in needs (LMOE2402 when there is none); false by default.</summary>
    /// <param name="options">The step's options.</param>
    protected virtual bool RequiresCalibration(TOptions options) => false;

    /// <inheritdoc />
    protected sealed override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var seed = SeedOf(options) ?? context.Services.GetRequiredService<ISeedSource>().Seed;
        using var statistics = OpenStatistics(context, options);
        using var weights = OpenWeights(context, options);
        var shape = weights.Shape;
        var layers = new List<ExpertPartition>(shape.Layers);
        for (var index = 0; index < shape.Layers; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var layer = index;
            var input = new MlpLayerInput(layer, shape.Hidden, shape.Intermediate, projection => weights.Read(layer, projection),
                statistics?.Read(layer, shape.Intermediate));
            layers.Add(Checked(context, options, input, SplitLayer(input, options, ConstructionSeed.ForLayer(seed, layer))));
            context.Progress.Report(layers.Count, shape.Layers, $"layer {layer}");
        }

        new ModelPartition(shape.Intermediate, layers).Write(context.OutputDirectory);
        context.Outputs["experts"] = options.Experts.ToString(CultureInfo.InvariantCulture);
        context.Outputs["layers"] = layers.Count.ToString(CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    // The partition after checking it against the options and the layer (LMOE2050 with the broken invariant).
    private static ExpertPartition Checked(IStepContext context, TOptions options, MlpLayerInput layer, ExpertPartition partition)
    {
        var problem = partition is null ? "it returned no partition"
            : partition.Experts.Count != options.Experts ? $"it returned {partition.Experts.Count} experts, expected {options.Experts}"
            : partition.NeuronCount != layer.Intermediate ? $"it covers {partition.NeuronCount} neurons, the layer has {layer.Intermediate}"
            : partition.Problem();
        return problem is null ? partition!
            : throw new LlamaMoeException(ContractErrorCodes.InvalidPartition, $"the splitter's partition of layer {layer.Index} is invalid: {problem}", key: context.StageId);
    }

    // The model's weights: the dense-model input, else the model option (LMOE0057), through a registered source (LMOE1052).
    private static IMlpWeightReader OpenWeights(IStepContext context, TOptions options)
    {
        var models = context.InputsOfKind(ArtifactKinds.DenseModel);
        var modelDirectory = models.Count > 0 ? models[0].Directory
            : options.Model ?? throw new LlamaMoeException(ContractErrorCodes.NoModel, $"stage '{context.StageId}' has no model to split",
                key: "model", advice: "Add a dense-model stage to 'needs' or set 'with: { model: PATH }'.");
        var source = context.Services.GetServices<IMlpWeightSource>().FirstOrDefault(s => s.CanRead(modelDirectory))
            ?? throw new LlamaMoeException(ContractErrorCodes.NoWeightSource, "no registered weight source can read this model folder", modelDirectory,
                advice: "Load the plugin assembly that reads this model format through 'plugins:'.");
        return source.Open(modelDirectory);
    }

    // The last calibration in needs (the importance pass after a hidden-state pass wins), or null; LMOE2402 when required and absent.
    private ILayerStatisticsReader? OpenStatistics(IStepContext context, TOptions options)
    {
        var calibrations = context.InputsOfKind(ArtifactKinds.Calibration);
        if (calibrations.Count == 0)
        {
            return RequiresCalibration(options)
                ? throw new LlamaMoeException(ContractErrorCodes.MissingInput, $"{context.StageId} needs a calibration stage for its statistics", key: context.StageId,
                    advice: "Add a 'calibrate' stage to needs.")
                : null;
        }

        var directory = calibrations[^1].Directory;
        var source = context.Services.GetServices<ILayerStatisticsSource>().FirstOrDefault(s => s.CanRead(directory))
            ?? throw new LlamaMoeException(ContractErrorCodes.NoStatisticsSource, "no registered statistics source can read this calibration folder", directory,
                advice: "Load the plugin assembly that reads this calibration format through 'plugins:'.");
        return source.Open(directory);
    }
}
