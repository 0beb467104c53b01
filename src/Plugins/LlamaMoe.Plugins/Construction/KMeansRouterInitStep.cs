using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>router-init/kmeans</c>: v2's router initialisation — every layer's router rows are the centroids of a
/// size-constrained (jittered) k-means of that layer's calibration hidden states. Also stores each calibration token's
/// cluster (<c>layers.i.assignment</c>) for the importance pass and the gradient split.
/// </summary>
[PipelineStep("router-init/kmeans", typeof(KMeansRouterInitOptions),
    Description = "Initialise routers with balanced k-means centroids of calibration hidden states (LLaMA-MoE v2), with the token cluster assignment.",
    Version = "2",
    Consumes = [ArtifactKinds.Calibration],
    Produces = ArtifactKinds.RouterWeights)]
public sealed class KMeansRouterInitStep : CalibratedRouterInitStep<KMeansRouterInitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "kmeans";

    /// <inheritdoc />
    protected override KMeansRouterSettings KMeansOf(KMeansRouterInitOptions options) => new(options.Jitter, options.Restarts, options.Iterations, options.ReuseCentroids);
}
