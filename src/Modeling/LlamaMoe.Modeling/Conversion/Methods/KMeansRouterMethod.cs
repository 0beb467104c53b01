using LlamaMoe.Modeling.Construction;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary>
/// <c>kmeans</c>: v2's router initialisation — the centroids of a size-constrained (jittered) k-means of the layer's
/// calibration hidden states (the calibration's own centroids when it computed E of them), with each hidden state's cluster.
/// </summary>
public sealed class KMeansRouterMethod : IRouterMethod
{
    /// <inheritdoc />
    public string Name => "kmeans";

    /// <inheritdoc />
    public bool NeedsCalibration => true;

    /// <inheritdoc />
    public bool NeedsCentroids => true;

    /// <inheritdoc />
    public RouterInit Initialize(RouterRequest request)
    {
        var calibration = request.RequireCalibration();
        var device = request.Device ?? CPU;
        var states = calibration.HiddenStates.to(device); // (N, H)
        var settings = request.KMeans;
        Tensor centroids;
        if (settings.ReuseCentroids && calibration.Centroids is { } given && given.shape[0] == request.Experts)
        {
            centroids = given.to(ScalarType.Float32).to(device).clone(); // (E, H)
        }
        else
        {
            var kmeans = BalancedKMeansOptions.Jittered((int)states.shape[0], request.Experts, settings.Jitter, request.Seed, settings.Restarts, settings.Iterations);
            centroids = RouterInitialization.KMeansCentroids(states, request.Experts, kmeans).Centroids; // (E, H)
        }

        return new RouterInit(centroids.cpu(), RouterInitialization.AssignClusters(states, centroids).cpu()); // (E, H), (N)
    }
}
