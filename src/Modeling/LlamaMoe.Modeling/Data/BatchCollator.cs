using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Data;

/// <summary>Turns rows into a <see cref="TrainingBatch"/> on a device.</summary>
public static class BatchCollator
{
    /// <summary>
    /// Collates rows. Packed rows (any row holding two or more examples, or <paramref name="packed"/> true) get position
    /// ids and a block-diagonal causal attention mask <c>(B, 1, T, T)</c>. Otherwise the batch is trimmed to its longest
    /// row and uses the plain causal mask (right padding never influences real tokens).
    /// </summary>
    public static TrainingBatch Collate(IReadOnlyList<PackedRow> rows, bool packed, Device device)
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one row", nameof(rows));
        }

        var length = packed ? rows.Max(r => r.Length) : rows.Max(r => Array.FindLastIndex(r.DocumentIds, d => d >= 0) + 1);
        length = Math.Max(length, 2);
        var b = rows.Count;
        var ids = new long[b * length];
        var targets = new long[b * length];
        var targetMask = new float[b * length];
        var tokenMask = new bool[b * length];
        var positions = new long[b * length];
        // Rows that each hold one document from position 0 (then padding) need no block mask: plain causal attention is
        // the same mask, and without an explicit mask scaled_dot_product_attention can use its fused (flash) kernel.
        var blockMask = packed && !rows.All(IsOneLeadingDocument);
        var attention = blockMask ? new bool[b * length * length] : null;
        for (var r = 0; r < b; r++)
        {
            var row = rows[r];
            var shifted = row.TargetMask();
            for (var t = 0; t < length; t++)
            {
                var i = r * length + t;
                ids[i] = row.Ids[t];
                targets[i] = t + 1 < row.Length ? row.Ids[t + 1] : 0;
                targetMask[i] = t + 1 < length && shifted[t] ? 1f : 0f;
                tokenMask[i] = row.DocumentIds[t] >= 0;
                positions[i] = row.PositionIds[t];
                if (attention is not null)
                {
                    for (var k = 0; k <= t; k++)
                    {
                        attention[(r * length + t) * length + k] = row.MayAttend(t, k);
                    }
                }
            }
        }

        var targetCount = (long)targetMask.Sum();
        var tokenCount = tokenMask.LongCount(m => m);
        return new TrainingBatch(
            ToDevice(tensor(ids, [b, length], ScalarType.Int64), device), // (B, T)
            ToDevice(tensor(targets, [b, length], ScalarType.Int64), device), // (B, T)
            ToDevice(tensor(targetMask, [b, length]), device), // (B, T)
            ToDevice(tensor(tokenMask, [b * length]), device), // (B·T)
            blockMask ? ToDevice(tensor(positions, [b, length], ScalarType.Int64), device) : null, // (B, T)
            attention is null ? null : ToDevice(tensor(attention, [b, 1, length, length]), device), // (B, 1, T, T)
            targetCount,
            tokenCount);
    }

    /// <summary>
    /// Moves a freshly built host tensor to <paramref name="device"/>. For CUDA it is staged in page-locked memory and
    /// copied asynchronously, so the host goes on queuing work instead of waiting for the copy (and for the stream).
    /// </summary>
    private static Tensor ToDevice(Tensor host, Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return host.to(device);
        }

        using (host)
        {
            using var pinned = host.pin_memory();
            return pinned.to(device, non_blocking: true);
        }
    }

    private static bool IsOneLeadingDocument(PackedRow row)
    {
        var first = row.DocumentIds.Length > 0 ? row.DocumentIds[0] : -1;
        for (var t = 0; t < row.Length; t++)
        {
            var document = row.DocumentIds[t];
            if (document >= 0 && (document != first || row.PositionIds[t] != t || (t > 0 && row.DocumentIds[t - 1] < 0)))
            {
                return false;
            }
        }

        return first >= 0;
    }
}
