using LlamaMoe.Modeling.Calibration;
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
public sealed class KMeansRouterInitStep : CalibratedRouterInitStep<KMeansRouterInitOptions>
{
    /// <inheritdoc />
    protected override string InitName => "kmeans";

    /// <inheritdoc />
    protected override (Tensor Router, Tensor? Assignment) InitializeLayer(LayerCalibration layer, KMeansRouterInitOptions options, long layerSeed, Device device)
    {
        var states = layer.HiddenStates.to(device); // (N, H)
        var given = layer.Centroids;
        Tensor centroids;
        if (options.ReuseCentroids && given is not null && given.shape[0] == options.Experts)
        {
            centroids = given.to(ScalarType.Float32).clone(); // (E, H)
        }
        else
        {
            var kmeans = BalancedKMeansOptions.Jittered((int)states.shape[0], options.Experts, options.Jitter, layerSeed, options.Restarts, options.Iterations);
            centroids = RouterInitialization.KMeansCentroids(states, options.Experts, kmeans).Centroids; // (E, H)
        }

        return (centroids.cpu(), RouterInitialization.AssignClusters(states, centroids).cpu()); // (E, H), (N)
    }
}
