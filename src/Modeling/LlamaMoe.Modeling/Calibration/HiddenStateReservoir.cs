using LlamaMoe.Modeling.Construction;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>
/// Seeded reservoir sampling (Algorithm R) of token rows, shared by all layers: the same token positions are kept in
/// every layer, and the result does not depend on the batch boundaries.
/// </summary>
internal sealed class HiddenStateReservoir : IDisposable
{
    private readonly int capacity;
    private readonly SeededRandom random;
    private readonly Tensor[] buffers;
    private long seen;

    public HiddenStateReservoir(int layers, int capacity, int hiddenSize, long seed, Device device)
    {
        this.capacity = capacity;
        random = new SeededRandom(seed);
        buffers = Enumerable.Range(0, layers).Select(_ => zeros(new long[] { capacity, hiddenSize }, ScalarType.Float32, device).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Decides which of the next <paramref name="tokens"/> tokens go to which slot: (token, slot) pairs, last write per slot kept.</summary>
    public (long[] Tokens, long[] Slots) Draw(int tokens)
    {
        var bySlot = new Dictionary<long, long>();
        for (var t = 0; t < tokens; t++, seen++)
        {
            if (seen < capacity)
            {
                bySlot[seen] = t;
            }
            else
            {
                var j = (long)(random.NextUInt64() % (ulong)(seen + 1));
                if (j < capacity)
                {
                    bySlot[j] = t;
                }
            }
        }

        return (bySlot.Values.ToArray(), bySlot.Keys.ToArray());
    }

    /// <summary>Stores layer <paramref name="layer"/>'s rows <c>(T, H)</c> chosen by <see cref="Draw"/>.</summary>
    public void Store(int layer, Tensor rows, long[] tokens, long[] slots)
    {
        if (tokens.Length == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var device = buffers[layer].device;
        var chosen = rows.detach().index_select(0, tensor(tokens, device: rows.device)).to(ScalarType.Float32).to(device); // (n, H)
        buffers[layer].index_copy_(0, tensor(slots, device: device), chosen);
    }

    /// <summary>The kept rows of every layer <c>(min(seen, capacity), H)</c>; the caller owns them.</summary>
    public Tensor[] Take() => buffers.Select(b => b.narrow(0, 0, Math.Min(seen, capacity)).clone().DetachFromDisposeScope()).ToArray();

    public void Dispose()
    {
        foreach (var buffer in buffers)
        {
            buffer.Dispose();
        }
    }
}
