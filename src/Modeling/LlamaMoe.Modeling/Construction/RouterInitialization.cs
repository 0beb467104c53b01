using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Router weight initialisations (spec §3): random Kaiming-uniform rows (PyTorch's Linear default), v2's balanced
/// k-means centroids of the MLP-input hidden states, or randomly chosen token rows; plus the token-to-cluster rule
/// (<c>argmax x·Cᵀ</c>) the gradient split uses.
/// </summary>
public static class RouterInitialization
{
    /// <summary>
    /// <c>(E, H)</c> drawn from U(−1/√H, 1/√H): <c>kaiming_uniform_(a = √5)</c>, the default of <c>nn.Linear</c>
    /// and v2's router init without centroids.
    /// </summary>
    public static Tensor KaimingUniform(int experts, int hiddenSize, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var bound = 1.0 / Math.Sqrt(hiddenSize);
        return rand(new long[] { experts, hiddenSize }, dtype: dtype, device: device, generator: generator).mul_(2 * bound).sub_(bound); // (E, H)
    }

    /// <summary>
    /// v2 step E1: size-constrained k-means of the hidden states (non-pad MLP inputs), computed in float32.
    /// Returns the centroids <c>(E, H)</c> on the input's device (float32) and the k-means label of every token.
    /// </summary>
    /// <param name="hiddenStates">MLP inputs <c>(N, H)</c> of one layer.</param>
    /// <param name="experts">E.</param>
    /// <param name="options">Bounds and settings; null for v2's (jitter 0.4, 16 restarts, 100 iterations, seed 114514).</param>
    public static (Tensor Centroids, int[] Labels) KMeansCentroids(Tensor hiddenStates, int experts, BalancedKMeansOptions? options = null)
    {
        var (points, hidden) = CheckStates(hiddenStates, experts);
        float[] data;
        using (var scope = NewDisposeScope())
        {
            data = hiddenStates.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        }

        var result = BalancedKMeans.Fit(data, points, hidden, options ?? BalancedKMeansOptions.Jittered(points, experts), hiddenStates.device);
        var centroids = tensor(result.Centroids, new long[] { experts, hidden }, ScalarType.Float32).to(hiddenStates.device); // (E, H)
        return (centroids, result.Labels);
    }

    /// <summary>v2 variant: E distinct token rows <c>(E, H)</c> drawn at random (seeded) from the hidden states.</summary>
    public static Tensor RandomTokenRows(Tensor hiddenStates, int experts, long seed)
    {
        var (points, _) = CheckStates(hiddenStates, experts);
        var order = Enumerable.Range(0, points).ToArray();
        new SeededRandom(seed).Shuffle(order);
        using var scope = NewDisposeScope();
        var rows = tensor(order.Take(experts).Select(i => (long)i).ToArray(), device: hiddenStates.device); // (E)
        return hiddenStates.detach().index_select(0, rows).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (E, H)
    }

    /// <summary>Cluster of every token as v2 routes it: <c>argmax_e x·C_eᵀ</c> (dot product, not distance). Returns <c>(N)</c> int64.</summary>
    public static Tensor AssignClusters(Tensor hiddenStates, Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var x = hiddenStates.detach().reshape(-1, centroids.shape[1]).to(ScalarType.Float32); // (N, H)
        var c = centroids.detach().to(ScalarType.Float32).to(x.device); // (E, H)
        return x.matmul(c.t()).argmax(-1).MoveToOuterDisposeScope(); // (N)
    }

    private static (int Points, int Hidden) CheckStates(Tensor hiddenStates, int experts)
    {
        if (hiddenStates.dim() != 2 || hiddenStates.shape[0] < experts || experts < 1)
        {
            throw new LlamaMoeException(
                ConstructionErrorCodes.TooFewCalibrationTokens,
                $"Router initialisation needs (N, H) hidden states with at least {experts} tokens, got shape [{string.Join(", ", hiddenStates.shape)}].",
                key: "router_init",
                advice: "Use more calibration samples, or a random router initialisation.");
        }

        return ((int)hiddenStates.shape[0], (int)hiddenStates.shape[1]);
    }
}
