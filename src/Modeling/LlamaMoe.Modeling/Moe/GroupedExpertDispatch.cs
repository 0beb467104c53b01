using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// Dropless grouped-matmul dispatch for experts of one size without biases: the token slots are sorted by expert and
/// gathered into a padded <c>(E, C, H)</c> batch (C = the largest expert load, padding rows carry weight 0), and the
/// experts run as two batched matmuls against their stacked weights — <c>(E, H, 2m)</c> for w1 and w3 fused and
/// <c>(E, m, H)</c> for w2 — instead of 2·E small ones. The per-expert parameters stay the source of truth (the
/// stacks are rebuilt each call, so gradients reach every <c>experts.{j}</c> parameter). One host synchronisation:
/// the per-expert counts. Gives the same result as <see cref="ExpertDispatch"/> up to summation order.
/// </summary>
public static class GroupedExpertDispatch
{
    /// <summary>Padded rows may exceed the routed slots by at most this factor; beyond it the caller should fall back.</summary>
    public const double MaxPaddingFactor = 1.5;

    /// <summary>Whether the experts can be grouped: at least one, all of one size, no biases.</summary>
    public static bool Supports(IReadOnlyList<ExpertMlp> experts) =>
        experts.Count > 0
        && experts.All(e => e.IntermediateSize == experts[0].IntermediateSize)
        && experts.All(e => e.W1.bias is null && e.W2.bias is null && e.W3.bias is null);

    /// <summary>
    /// Computes <c>Σ_k weights[n,k] · scale · Expert_{selected[n,k]}(x_n)</c> for every token, or returns null when the
    /// load is so uneven that padding would cost more than <see cref="MaxPaddingFactor"/> times the routed work.
    /// </summary>
    /// <param name="input">Token states <c>(N, H)</c>.</param>
    /// <param name="weights">Routing weights <c>(N, K)</c> in the activation type.</param>
    /// <param name="selected">Expert ids <c>(N, K)</c>, int64.</param>
    /// <param name="experts">The experts, indexed by id; <see cref="Supports"/> must hold.</param>
    /// <param name="scale">Multiplies every expert output.</param>
    /// <returns><c>(N, H)</c>, or null (nothing computed) when the padding would be too large.</returns>
    public static Tensor? TryRun(Tensor input, Tensor weights, Tensor selected, IReadOnlyList<ExpertMlp> experts, double scale)
    {
        if (input.shape[0] == 0)
        {
            return zeros_like(input); // (0, H)
        }

        using var scope = NewDisposeScope();
        var expertCount = experts.Count;
        var hidden = input.shape[1];
        var topK = selected.shape[1];
        var flatExperts = selected.reshape(-1); // (N·K)
        var slots = flatExperts.shape[0];
        var countsOnDevice = flatExperts.bincount(null, expertCount); // (E)
        var capacity = countsOnDevice.max().cpu().item<long>(); // C, the one host synchronisation
        if (expertCount * capacity > MaxPaddingFactor * slots)
        {
            return null;
        }

        var (sortedExperts, order) = flatExperts.sort(dim: 0, descending: false, stable: true); // (N·K), (N·K)
        var starts = countsOnDevice.cumsum(0).sub(countsOnDevice); // (E) first sorted slot of each expert
        var positions = arange(slots, dtype: ScalarType.Int64, device: input.device).sub(starts.index_select(0, sortedExperts)); // (N·K)
        var destination = sortedExperts.mul(capacity).add(positions); // (N·K) row in the padded batch
        var rows = expertCount * capacity;
        var tokenOfSlot = order.div(topK, rounding_mode: RoundingMode.floor); // (N·K)
        var slotWeights = weights.reshape(-1).index_select(0, order); // (N·K)
        if (scale != 1.0)
        {
            slotWeights = slotWeights.mul(scale); // (N·K)
        }

        // Rows are moved with gathers and index_copy (whose backward is a gather); the only scatter-adds (the token
        // gather's backward and the combine) run in float32, because CUDA's bfloat16 atomics are compare-and-swap loops.
        // Padding rows are zeros that no token owns, so nothing contends on one row.
        var accumulate = AccumulationType(input.dtype);
        var sortedRows = input.to_type(accumulate).index_select(0, tokenOfSlot).to_type(input.dtype); // (N·K, H)
        var batch = zeros(rows, hidden, dtype: input.dtype, device: input.device).index_copy(0, destination, sortedRows)
            .view(expertCount, capacity, hidden); // (E, C, H), padding rows 0
        var paddedWeights = zeros(rows, dtype: weights.dtype, device: input.device).index_copy(0, destination, slotWeights); // (E·C), padding → 0
        var gateUp = stack(experts.SelectMany(e => new[] { e.W1.weight!, e.W3.weight! }), 0) // (2E, m, H)
            .view(expertCount, -1, hidden); // (E, 2m, H): rows [w1_e; w3_e]
        var fused = matmul(batch, gateUp.transpose(1, 2)); // (E, C, 2m)
        var parts = fused.chunk(2, -1); // 2 × (E, C, m)
        var activation = nn.functional.silu(parts[0]).mul(parts[1]).mul(paddedWeights.view(expertCount, capacity, 1)); // (E, C, m)
        var down = stack(experts.Select(e => e.W2.weight!), 0); // (E, H, m)
        var output = matmul(activation, down.transpose(1, 2)).view(rows, hidden); // (E·C, H)
        var slotOutputs = output.to_type(accumulate).index_select(0, destination); // (N·K, H), sorted slot order
        var result = zeros(input.shape[0], hidden, dtype: accumulate, device: input.device)
            .index_add_(0, tokenOfSlot, slotOutputs, 1).to_type(input.dtype); // (N, H)
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The type scatter-adds run in: float32 for 16-bit activations, else the activation type itself.</summary>
    internal static ScalarType AccumulationType(ScalarType activation) =>
        activation is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : activation;
}
