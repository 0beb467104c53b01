using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// v2 step E2 (spec §1.2 E): per-cluster, per-neuron first-order importance
/// <c>s_c[j] = (1/N_c) Σ_{t in cluster c} |h_t[j] · g_t[j]|</c>, where h is the input of down_proj
/// (<c>SiLU(W_gate x) ⊙ W_up x</c>) and g = ∂L/∂h. Sums run in float64 on the device of the first batch.
/// </summary>
public sealed class ImportanceAccumulator : IDisposable
{
    private Tensor? sums;   // (E, I) float64
    private Tensor? counts; // (E) float64

    /// <summary>Creates an accumulator for <paramref name="clusters"/> clusters and <paramref name="neurons"/> neurons.</summary>
    public ImportanceAccumulator(int clusters, int neurons)
    {
        Clusters = clusters;
        Neurons = neurons;
    }

    /// <summary>Number of clusters (routed experts) E.</summary>
    public int Clusters { get; }

    /// <summary>Intermediate size I.</summary>
    public int Neurons { get; }

    /// <summary>Adds one batch.</summary>
    /// <param name="activations">h, the down_proj inputs <c>(N, I)</c> (or <c>(B, T, I)</c>).</param>
    /// <param name="gradients">∂L/∂h, same shape.</param>
    /// <param name="clusterIds">Cluster of every token <c>(N)</c> (see <see cref="RouterInitialization.AssignClusters"/>); padding tokens must be left out by the caller.</param>
    public void Add(Tensor activations, Tensor gradients, Tensor clusterIds)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var h = activations.detach().reshape(-1, Neurons); // (N, I)
        var g = gradients.detach().reshape(-1, Neurons); // (N, I)
        var ids = clusterIds.reshape(-1).to(ScalarType.Int64).to(h.device); // (N)
        if (ids.shape[0] != h.shape[0] || g.shape[0] != h.shape[0])
        {
            throw new LlamaMoeException(ConstructionErrorCodes.ImportanceInputsDisagree, $"Importance inputs disagree: {h.shape[0]} activation rows, {g.shape[0]} gradient rows, {ids.shape[0]} cluster ids.", key: "importance", advice: "Pass the down_proj inputs, their gradients and the cluster ids of the same tokens.");
        }

        sums ??= zeros(new long[] { Clusters, Neurons }, ScalarType.Float64, h.device).DetachFromDisposeScope();
        counts ??= zeros(new long[] { Clusters }, ScalarType.Float64, h.device).DetachFromDisposeScope();
        var contribution = h.to(ScalarType.Float64).mul(g.to(ScalarType.Float64)).abs_(); // (N, I)
        sums.index_add_(0, ids, contribution, 1);
        counts.index_add_(0, ids, ones(ids.shape[0], ScalarType.Float64, h.device), 1);
    }

    /// <summary>Tokens seen per cluster.</summary>
    public long[] TokenCounts()
    {
        if (counts is null)
        {
            return new long[Clusters];
        }

        using var scope = NewDisposeScope();
        return counts.cpu().data<double>().Select(c => (long)c).ToArray();
    }

    /// <summary>The mean importance <c>(E, I)</c> float32 (a cluster without tokens scores 0 everywhere).</summary>
    public Tensor Scores()
    {
        if (sums is null || counts is null)
        {
            return zeros(Clusters, Neurons);
        }

        using var scope = NewDisposeScope();
        return sums.div(counts.clamp_min(1).unsqueeze(1)).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (E, I)
    }

    /// <summary>The mean importance as one float array per cluster, ready for <see cref="GradientSplit"/>.</summary>
    public float[][] ScoresAsArrays()
    {
        using var scope = NewDisposeScope();
        var scores = Scores().cpu().contiguous().data<float>().ToArray();
        return Enumerable.Range(0, Clusters).Select(c => scores.AsSpan(c * Neurons, Neurons).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        sums?.Dispose();
        counts?.Dispose();
    }
}
