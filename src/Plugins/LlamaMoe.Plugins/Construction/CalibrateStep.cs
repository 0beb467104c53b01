using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>calibrate</c>: runs the dense model over calibration data and records per layer a sample of MLP-input hidden
/// states, per-neuron activation statistics, optionally the co-activation graph and optionally v2's per-cluster
/// importance (clusters from a router-weights input, else balanced k-means) — the calibration artifact that
/// router-init/kmeans|tokens and split-mlp/coactivation|gradient|sharing consume.
/// </summary>
[PipelineStep("calibrate", typeof(CalibrateOptions),
    Description = "Record calibration statistics of a dense model: hidden-state samples, neuron stats, co-activation, per-cluster importance.",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.RouterWeights, ArtifactKinds.Dataset, ArtifactKinds.Files],
    Produces = ArtifactKinds.Calibration)]
public sealed class CalibrateStep : PipelineStep<CalibrateOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, CalibrateOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TorchRuntime.EnsureLoaded();
        var dense = DenseModelConfig.Resolve(context, options.Model);
        var routers = context.InputsOfKind(ArtifactKinds.RouterWeights);
        var config = DenseModelConfig.Read(dense);
        IReadOnlyList<float[]>? centroids = null;
        var clusters = 0;
        if (options.Importance)
        {
            if (routers.Count > 0)
            {
                var header = RouterWeightsArtifact.ReadHeader(routers[0].Directory);
                clusters = header.Experts;
                centroids = Enumerable.Range(0, config.NumHiddenLayers).Select(layer =>
                {
                    using var weight = RouterWeightsArtifact.ReadLayer(routers[0].Directory, layer); // (E, H)
                    return weight.contiguous().data<float>().ToArray();
                }).ToList();
            }
            else
            {
                clusters = options.Experts ?? throw new LlamaMoeException(ConstructionPluginErrors.MissingInput,
                    "importance needs clusters: a router-weights stage in needs or the 'experts' option", key: "experts",
                    advice: "Add a router-init/kmeans stage to needs, or set 'experts'.");
            }
        }

        var seed = options.Seed ?? context.Services.GetRequiredService<ISeedSource>().Seed;
        var tokenizer = context.Services.GetRequiredService<ITokenizerCache>().GetOrAdd(Path.GetFullPath(dense), TokenizerLoader.Load);
        var format = options.Format.ToString().ToLowerInvariant();
        var samples = WithinBudget(CalibrationCorpus.Load(options.Data, format, tokenizer, options.Template, options.MaxLength), options.Tokens);
        context.Log.Info($"{samples.Count} sequences, {samples.Sum(s => s.Length)} tokens");
        var device = ModelArtifacts.DeviceOf(context);
        using var model = LlamaForCausalLM.FromDirectory(dense, device);
        var calibrationOptions = new CalibrationOptions(options.MaxHiddenStates, seed, options.Coactivation, clusters, centroids);
        using var artifact = Calibrator.Run(model, samples, calibrationOptions, cancellationToken);

        // CalibrationArtifact.Save publishes through a temporary sibling: save inside the resume folder, then move in.
        var staging = Path.Combine(context.ResumeDirectory, "calibration");
        artifact.Save(staging);
        foreach (var file in Directory.EnumerateFiles(staging))
        {
            File.Move(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)), overwrite: true);
        }

        Directory.Delete(staging, recursive: true);
        context.Outputs["tokens"] = artifact.Tokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["clusters"] = clusters.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    /// <summary>The examples in file order until they hold <paramref name="budget"/> tokens (the last one may cross it).</summary>
    internal static List<EncodedExample> WithinBudget(IReadOnlyList<EncodedExample> examples, long budget)
    {
        var taken = new List<EncodedExample>();
        long tokens = 0;
        foreach (var example in examples)
        {
            if (tokens >= budget)
            {
                break;
            }

            taken.Add(example);
            tokens += example.Length;
        }

        return taken;
    }
}
