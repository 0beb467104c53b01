using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// Dropless token dispatch: one stable sort of the N·K (token, expert) slots by expert, one gather of the token
/// rows, one forward per expert on its contiguous slice, one weighted scatter-add back. No per-token loops and a
/// single host synchronisation (the per-expert counts).
/// </summary>
public static class ExpertDispatch
{
    /// <summary>Computes <c>Σ_k weights[n,k] · scale · Expert_{selected[n,k]}(x_n)</c> for every token.</summary>
    /// <param name="input">Token states <c>(N, H)</c>.</param>
    /// <param name="weights">Routing weights <c>(N, K)</c> in the activation type.</param>
    /// <param name="selected">Expert ids <c>(N, K)</c>, int64.</param>
    /// <param name="experts">The experts, indexed by id.</param>
    /// <param name="scale">Multiplies every expert output.</param>
    /// <returns><c>(N, H)</c>.</returns>
    public static Tensor Run(Tensor input, Tensor weights, Tensor selected, IReadOnlyList<ExpertMlp> experts, double scale)
    {
        if (input.shape[0] == 0)
        {
            return zeros_like(input); // (0, H)
        }

        using var scope = NewDisposeScope();
        var topK = selected.shape[1];
        var flatExperts = selected.reshape(-1); // (N·K)
        var (_, order) = flatExperts.sort(dim: 0, descending: false, stable: true); // (N·K) slot ids grouped by expert
        var tokenOfSlot = order.div(topK, rounding_mode: RoundingMode.floor); // (N·K) token id of each sorted slot
        var counts = flatExperts.bincount(null, experts.Count).cpu().data<long>().ToArray(); // (E) on the host
        var slotWeights = weights.reshape(-1).index_select(0, order); // (N·K)
        if (scale != 1.0)
        {
            slotWeights = slotWeights.mul(scale); // (N·K)
        }

        var accumulate = GroupedExpertDispatch.AccumulationType(input.dtype); // scatter-adds in float32 for 16-bit activations
        var gathered = input.to_type(accumulate).index_select(0, tokenOfSlot).to_type(input.dtype); // (N·K, H)
        var slices = gathered.split(counts, 0); // E × (c_e, H)
        var weightSlices = slotWeights.split(counts, 0); // E × (c_e)
        var tokenSlices = tokenOfSlot.split(counts, 0); // E × (c_e)
        var result = zeros(input.shape[0], input.shape[1], dtype: accumulate, device: input.device); // (N, H)
        for (var e = 0; e < experts.Count; e++)
        {
            if (counts[e] > 0)
            {
                var output = experts[e].Forward(slices[e], weightSlices[e]); // (c_e, H), already weighted
                result.index_add_(0, tokenSlices[e], output.to_type(accumulate), 1); // (N, H), in place: index_add backward needs no saved values
            }
        }

        return result.to_type(input.dtype).MoveToOuterDisposeScope();
    }
}
