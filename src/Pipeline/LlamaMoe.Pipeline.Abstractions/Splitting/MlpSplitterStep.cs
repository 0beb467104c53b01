using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// Turns an <see cref="IMlpSplitter"/> into a step: reads the model (the dense-model input, or the <c>model</c> option)
/// layer by layer through a registered <see cref="IMlpWeightSource"/>, splits each layer, checks the result and writes
/// <c>partition.json</c>. Export the derived class with <see cref="PipelineStepAttribute"/> and
/// <c>Produces = ArtifactKinds.ExpertPartition</c>.
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
        var models = context.InputsOfKind(ArtifactKinds.DenseModel);
        var modelDirectory = models.Count > 0 ? models[0].Directory
            : options.Model ?? throw new LlamaMoeException(ContractErrorCodes.NoModel, $"stage '{context.StageId}' has no model to split",
                key: "model", advice: "Add a dense-model stage to 'needs' or set 'with: { model: PATH }'.");
        var source = context.Services.GetServices<IMlpWeightSource>().FirstOrDefault(s => s.CanRead(modelDirectory))
            ?? throw new LlamaMoeException(ContractErrorCodes.NoWeightSource, "no registered weight source can read this model folder", modelDirectory,
                advice: "Load the plugin assembly that reads this model format through 'plugins:'.");
        var splitter = CreateSplitter(options);
        var layers = new List<ExpertPartition>();
        var intermediate = 0;
        var seeds = context.Services.GetRequiredService<ISeedSource>();
        foreach (var layer in source.ReadLayers(modelDirectory, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            intermediate = layer.Intermediate;
            var partition = splitter.SplitLayer(layer, options.Experts, seeds.Derive($"{context.StageId}/layer-{layer.LayerIndex}"));
            var problem = partition.Experts.Count != options.Experts ? $"returned {partition.Experts.Count} experts, expected {options.Experts}" : partition.Check(layer.Intermediate);
            if (problem is not null)
            {
                throw new LlamaMoeException(ContractErrorCodes.InvalidPartition, $"the splitter's partition of layer {layer.LayerIndex} is invalid: {problem}", key: context.StageId);
            }

            layers.Add(partition);
            context.Progress.Report(layers.Count, 0, $"layer {layer.LayerIndex}");
        }

        new ModelPartition(intermediate, layers).Write(context.OutputDirectory);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["layers"] = layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
