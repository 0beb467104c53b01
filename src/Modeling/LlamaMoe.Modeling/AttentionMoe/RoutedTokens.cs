using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// The tokens routed to one expert, gathered per batch row in their original order into a compact sequence of
/// length L (the largest count over the rows; shorter rows are padded with invalid slots pointing at token 0).
/// </summary>
/// <param name="Index">Original token index of every compact slot <c>(B, L)</c> (int64).</param>
/// <param name="Valid">Whether the slot holds a routed token <c>(B, L)</c> (bool).</param>
internal sealed record RoutedTokens(Tensor Index, Tensor Valid)
{
    /// <summary>Compact length L.</summary>
    public long Length => Index.shape[1];

    /// <summary>Gathers the routed tokens of <paramref name="routed"/> <c>(B, T)</c> (bool), or null when no row routes any token.</summary>
    public static RoutedTokens? Gather(Tensor routed)
    {
        var (b, t) = (routed.shape[0], routed.shape[1]);
        var counts = routed.sum(1, type: ScalarType.Int64);                                   // (B)
        var length = counts.max().item<long>();
        if (length == 0)
        {
            return null;
        }

        var slot = routed.cumsum(1, type: ScalarType.Int64).sub(1);                          // (B, T) compact slot of each routed token
        slot = torch.where(routed, slot, torch.full_like(slot, length));                     // (B, T) unrouted tokens go to a dump column
        var tokens = torch.arange(t, device: routed.device).unsqueeze(0).expand(b, t);       // (B, T)
        var index = torch.zeros(new[] { b, length + 1 }, ScalarType.Int64, routed.device)
            .scatter(1, slot, tokens)                                                        // (B, L+1)
            .narrow(1, 0, length);                                                           // (B, L)
        var valid = torch.arange(length, device: routed.device).unsqueeze(0).lt(counts.unsqueeze(1)); // (B, L)
        return new RoutedTokens(index, valid);
    }

    /// <summary>Gathers rows of <paramref name="x"/> <c>(B, T, F)</c> at the compact slots: <c>(B, L, F)</c>.</summary>
    public Tensor Select(Tensor x) => x.gather(1, Index.unsqueeze(-1).expand(Index.shape[0], Length, x.shape[^1]));
}
