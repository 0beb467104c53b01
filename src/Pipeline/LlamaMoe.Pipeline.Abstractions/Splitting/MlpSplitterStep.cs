using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// Turns an <see cref="IMlpSplitter"/> into a step: reads the model (the dense-model input, or the <c>model</c> option)
/// layer by layer through a registered <see cref="IMlpWeightSource"/>, splits each layer, checks the result and writes
/// <c>partition.json</c>. Export the derived class with <see cref="PipelineStepAttribute"/> and
/// <c>Produces = ArtifactKinds.ExpertPartition</c>. Layer <c>l</c> is split with the seed
/// <see cref="ConstructionSeed.ForLayer"/>(pipeline seed, l), the rule every built-in construction method follows.
/// </summary>
public abstract class MlpSplitterStep<TOptions> : PipelineStep<TOptions>, IMlpSplitter
    where TOptions : MlpSplitterOptions
{
    /// <inheritdoc />
    public abstract ExpertPartition SplitLayer(MlpLayerWeights layer, int experts, int seed);

    /// <summary>Creates the splitter configured by the options (the default is this instance).</summary>
    protected virtual IMlpSplitter CreateSplitter(TOptions options) => this;

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        var splitter = CreateSplitter(options);
        var seed = context.Services.GetRequiredService<ISeedSource>().Seed;
        SplitEveryLayer(context, options, (layer, layerSeed) => splitter.SplitLayer(layer, options.Experts, layerSeed), seed, allowsOverlap: false, layerCount: 0, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The layer loop every splitter step shares: reads each layer of the model, splits it with
    /// <paramref name="splitLayer"/> (given the layer and its <see cref="ConstructionSeed.ForLayer"/> seed), checks the
    /// partition (LMOE2050 when invalid) and writes <c>partition.json</c> with the <c>experts</c> and <c>layers</c> outputs.
    /// </summary>
    /// <param name="context">The stage context.</param>
    /// <param name="options">The step options.</param>
    /// <param name="splitLayer">Splits one layer given its seed.</param>
    /// <param name="seed">The construction seed (the step's <c>seed</c> option, else the pipeline seed).</param>
    /// <param name="allowsOverlap">Whether experts may share neurons and leave some out (only ranges are checked then).</param>
    /// <param name="layerCount">The layer count for progress reports; 0 when unknown.</param>
    /// <param name="cancellationToken">Cancels between layers.</param>
    protected static void SplitEveryLayer(IStepContext context, TOptions options, Func<MlpLayerWeights, int, ExpertPartition> splitLayer, int seed, bool allowsOverlap, int layerCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(splitLayer);
        cancellationToken.ThrowIfCancellationRequested();
        var modelDirectory = ModelDirectoryOf(context, options);
        var source = context.Services.GetServices<IMlpWeightSource>().FirstOrDefault(s => s.CanRead(modelDirectory))
            ?? throw new LlamaMoeException(ContractErrorCodes.NoWeightSource, "no registered weight source can read this model folder", modelDirectory,
                advice: "Load the plugin assembly that reads this model format through 'plugins:'.");
        var layers = new List<ExpertPartition>();
        var intermediate = 0;
        foreach (var layer in source.ReadLayers(modelDirectory, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            intermediate = layer.Intermediate;
            layers.Add(Checked(context, options, layer.LayerIndex, layer.Intermediate, splitLayer(layer, ConstructionSeed.ForLayer(seed, layer.LayerIndex)), allowsOverlap));
            context.Progress.Report(layers.Count, layerCount, $"layer {layer.LayerIndex}");
        }

        WritePartition(context, options, intermediate, layers);
    }

    /// <summary>Returns <paramref name="partition"/> after checking it (LMOE2050 when it has the wrong expert count or bad indices).</summary>
    /// <param name="context">The stage context.</param>
    /// <param name="options">The step options (the expected expert count).</param>
    /// <param name="layer">The layer index, for the message.</param>
    /// <param name="intermediate">I, the layer's neuron count.</param>
    /// <param name="partition">The layer's partition.</param>
    /// <param name="allowsOverlap">Whether experts may share neurons and leave some out (only ranges are checked then).</param>
    protected static ExpertPartition Checked(IStepContext context, TOptions options, int layer, int intermediate, ExpertPartition partition, bool allowsOverlap)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(partition);
        var problem = partition.Experts.Count != options.Experts ? $"returned {partition.Experts.Count} experts, expected {options.Experts}"
            : allowsOverlap ? partition.Experts.SelectMany(e => e).Concat(partition.Residual).Any(n => n < 0 || n >= intermediate) ? "a neuron index is out of range" : null
            : partition.Check(intermediate);
        return problem is null ? partition
            : throw new LlamaMoeException(ContractErrorCodes.InvalidPartition, $"the splitter's partition of layer {layer} is invalid: {problem}", key: context.StageId);
    }

    /// <summary>Writes <c>partition.json</c> and the <c>experts</c> and <c>layers</c> outputs.</summary>
    protected static void WritePartition(IStepContext context, TOptions options, int intermediate, IReadOnlyList<ExpertPartition> layers)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(layers);
        new ModelPartition(intermediate, layers).Write(context.OutputDirectory);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["layers"] = layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The model folder to split: the dense-model input, else the <c>model</c> option (LMOE0057 when neither).</summary>
    protected static string ModelDirectoryOf(IStepContext context, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var models = context.InputsOfKind(ArtifactKinds.DenseModel);
        return models.Count > 0 ? models[0].Directory
            : options.Model ?? throw new LlamaMoeException(ContractErrorCodes.NoModel, $"stage '{context.StageId}' has no model to split",
                key: "model", advice: "Add a dense-model stage to 'needs' or set 'with: { model: PATH }'.");
    }
}
