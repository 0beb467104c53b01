using LlamaMoe.Construction;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Base of the router initialisers that read calibration hidden states (<c>router-init/kmeans</c>,
/// <c>router-init/tokens</c>): loads the stage's calibration input, runs the registered method of
/// <see cref="ConstructionMethods"/> (the one <c>llama-moe convert --router</c> uses) on every layer with the seed
/// <see cref="ConstructionSeed.ForLayer"/>(seed, layer), reports progress per layer and writes the router weights artifact.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
public abstract class CalibratedRouterInitStep<TOptions> : PipelineStep<TOptions>
    where TOptions : RouterInitOptions
{
    /// <summary>The registered router method's name (<c>kmeans</c>, <c>tokens</c>), also recorded in the artifact.</summary>
    protected abstract string MethodName { get; }

    /// <summary>The k-means tuning of <paramref name="options"/> (defaults for methods without one).</summary>
    protected virtual KMeansRouterSettings KMeansOf(TOptions options) => new();

    /// <inheritdoc />
    protected sealed override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var calibration = CalibrationInput.Load(context, "its hidden states");
        var seed = options.ResolveSeed(context);
        var method = ConstructionMethods.Router(MethodName);
        var kmeans = KMeansOf(options);
        var device = ModelArtifacts.DeviceOf(context);
        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        var assignments = new List<Tensor>();
        for (var layer = 0; layer < calibration.Layers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = new RouterRequest(layer, options.Experts, calibration.HiddenSize, ConstructionSeed.ForLayer(seed, layer), calibration.Layers[layer], device) { KMeans = kmeans };
            var (router, assignment) = method.Initialize(request);
            weights.Add(router); // (E, H)
            if (assignment is not null)
            {
                assignments.Add(assignment); // (N)
            }

            context.Progress.Report(layer + 1, calibration.Layers.Count, $"layer {layer}");
        }

        RouterWeightsArtifact.Write(context.OutputDirectory, MethodName, weights, assignments.Count == 0 ? null : assignments);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
