using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>What <see cref="Calibrator"/> records.</summary>
/// <param name="MaxHiddenStates">MLP-input hidden states kept per layer (seeded reservoir sample over all tokens).</param>
/// <param name="Seed">Seed of the reservoir sampling.</param>
/// <param name="Coactivation">Accumulate the (I, I) co-activation graph of the SwiGLU intermediate (costly for large I).</param>
/// <param name="ImportanceClusters">
/// When positive: router clusters for the first-order importance |h·∂L/∂h| (a second pass with backward). Their
/// centroids are <paramref name="Centroids"/> or, when null, balanced k-means of the sampled hidden states.
/// </param>
/// <param name="Centroids">Given centroids per layer, row-major (E·H floats), or null.</param>
/// <param name="KMeans">k-means settings for the centroids, or null for v2's (jitter 0.4, 16 restarts, 100 iterations).</param>
public sealed record CalibrationOptions(
    int MaxHiddenStates = 4096,
    long Seed = 0,
    bool Coactivation = false,
    int ImportanceClusters = 0,
    IReadOnlyList<float[]>? Centroids = null,
    Func<int, BalancedKMeansOptions>? KMeans = null);
