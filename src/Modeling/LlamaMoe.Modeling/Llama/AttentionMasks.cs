using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// Builds the additive attention mask <c>(B or 1, 1, T, S)</c> (0 = attend, dtype minimum = blocked) from causality,
/// the cache length and an optional caller mask.
/// </summary>
public static class AttentionMasks
{
    /// <summary>Builds the mask.</summary>
    /// <param name="queryLength">T, new positions.</param>
    /// <param name="pastLength">Cached positions before them.</param>
    /// <param name="userMask">
    /// null; a padding mask <c>(B, S)</c> (nonzero/true = real token); a boolean mask <c>(B, 1, T, S)</c> (true = attend,
    /// for example block-diagonal document masks for packed sequences); or an additive float mask <c>(B, 1, T, S)</c>.
    /// It is combined with causality.
    /// </param>
    /// <param name="dtype">The compute dtype.</param>
    /// <param name="device">The device.</param>
    public static Tensor? Build(long queryLength, long pastLength, Tensor? userMask, ScalarType dtype, Device device)
    {
        if (userMask is null && (pastLength == 0 || queryLength == 1))
        {
            return null;
        }

        using var scope = NewDisposeScope();
        var total = pastLength + queryLength;
        var queryPositions = torch.arange(pastLength, total, device: device).unsqueeze(1); // (T, 1)
        var keyPositions = torch.arange(0, total, device: device).unsqueeze(0);           // (1, S)
        var allowed = keyPositions.le(queryPositions).unsqueeze(0).unsqueeze(0);         // (1, 1, T, S)
        Tensor? additive = null;
        if (userMask is not null)
        {
            if (userMask.dim() == 2)
            {
                allowed = allowed.logical_and(userMask.ne(0).unsqueeze(1).unsqueeze(1));  // (B, 1, T, S)
            }
            else if (userMask.dim() == 4 && userMask.dtype == ScalarType.Bool)
            {
                allowed = allowed.logical_and(userMask);                                  // (B, 1, T, S)
            }
            else if (userMask.dim() == 4)
            {
                additive = userMask.to_type(ScalarType.Float32);                          // (B, 1, T, S)
            }
            else
            {
                throw new ArgumentException("attention mask must be (B, S) or (B, 1, T, S)", nameof(userMask));
            }
        }

        var blocked = dtype == ScalarType.BFloat16 ? -3.3895313892515355e38 : dtype == ScalarType.Float16 ? -65504.0 : float.MinValue;
        var mask = torch.zeros(allowed.shape, ScalarType.Float32, device).masked_fill(allowed.logical_not(), blocked); // (B|1, 1, T, S)
        if (additive is not null)
        {
            mask = (mask + additive).clamp_min(blocked);
        }

        return mask.to_type(dtype).MoveToOuterDisposeScope();
    }
}
