using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>router-init/kmeans</c>.</summary>
public sealed class KMeansRouterInitOptions : RouterInitOptions
{
    /// <summary>Cluster-size jitter: sizes within N/E·(1 ± jitter).</summary>
    [Option("Cluster-size jitter: every cluster holds between N/E·(1 − jitter) and N/E·(1 + jitter) tokens (v2: 0.4).", Minimum = 0, Maximum = 1)]
    public double Jitter { get; set; } = 0.4;

    /// <summary>k-means++ restarts.</summary>
    [Option("Independent k-means++ restarts; the lowest inertia wins (v2: 16).", Minimum = 1, Maximum = 256)]
    public int Restarts { get; set; } = 16;

    /// <summary>Lloyd iterations per restart.</summary>
    [Option("Lloyd iterations per restart (v2: 100).", Minimum = 1, Maximum = 10000)]
    public int Iterations { get; set; } = 100;

    /// <summary>Reuse centroids already in the calibration (from an importance pass with the same experts).</summary>
    [Option("Reuse the centroids a calibrate importance pass already computed for the same number of experts, so routers and importance clusters agree.")]
    public bool ReuseCentroids { get; set; } = true;
}
