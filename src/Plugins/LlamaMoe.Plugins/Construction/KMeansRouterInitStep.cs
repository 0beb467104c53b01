using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>router-init/kmeans</c>: v2's router initialisation — every layer's router rows are the centroids of a
/// size-constrained (jittered) k-means of that layer's calibration hidden states. Also stores each calibration token's
/// cluster (<c>layers.i.assignment</c>) for the importance pass and the gradient split.
/// </summary>
[PipelineStep("router-init/kmeans", typeof(KMeansRouterInitOptions),
    Description = "Initialise routers with balanced k-means centroids of calibration hidden states (LLaMA-MoE v2), with the token cluster assignment.",
    Version = "1",
    Consumes = [ArtifactKinds.Calibration],
    Produces = ArtifactKinds.RouterWeights)]
public sealed class KMeansRouterInitStep : PipelineStep<KMeansRouterInitOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, KMeansRouterInitOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TorchRuntime.EnsureLoaded();
        using var calibration = CalibrationInput.Load(context, "its hidden states");
        var seed = options.ResolveSeed(context);
        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        var assignments = new List<Tensor>();
        for (var layer = 0; layer < calibration.Layers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var states = calibration.Layers[layer].HiddenStates; // (N, H)
            var given = calibration.Layers[layer].Centroids;
            Tensor centroids;
            if (options.ReuseCentroids && given is not null && given.shape[0] == options.Experts)
            {
                centroids = given.to(ScalarType.Float32).clone(); // (E, H)
            }
            else
            {
                var points = (int)states.shape[0];
                var kmeans = BalancedKMeansOptionsFor(points, options, seed + layer);
                centroids = RouterInitialization.KMeansCentroids(states, options.Experts, kmeans).Centroids; // (E, H)
            }

            weights.Add(centroids);
            assignments.Add(RouterInitialization.AssignClusters(states, centroids)); // (N)
            context.Progress.Report(layer + 1, calibration.Layers.Count, $"layer {layer}");
        }

        RouterWeightsArtifact.Write(context.OutputDirectory, "kmeans", weights, assignments);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    private static BalancedKMeansOptions BalancedKMeansOptionsFor(int points, KMeansRouterInitOptions options, long seed) =>
        BalancedKMeansOptions.Jittered(points, options.Experts, options.Jitter, seed, options.Restarts, options.Iterations);
}
