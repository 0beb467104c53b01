using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// Per-layer key/value cache for incremental decoding. Keys and values are stored as <c>(B, KV, S, hd)</c>
/// (before the GQA repeat); the cache owns them and disposes them when replaced or disposed.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers.</summary>
    public KvCache(int layers)
    {
        keys = new Tensor?[layers];
        values = new Tensor?[layers];
    }

    /// <summary>Number of cached positions (of layer 0).</summary>
    public long Length => keys[0]?.shape[2] ?? 0;

    /// <summary>Appends new keys/values <c>(B, KV, T, hd)</c> for <paramref name="layer"/> and returns the full <c>(B, KV, S+T, hd)</c> tensors.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        var k = keys[layer] is { } oldK ? torch.cat([oldK, newKeys], dim: 2) : newKeys.alias();
        var v = values[layer] is { } oldV ? torch.cat([oldV, newValues], dim: 2) : newValues.alias();
        keys[layer]?.Dispose();
        values[layer]?.Dispose();
        keys[layer] = k.detach().DetachFromDisposeScope();
        values[layer] = v.detach().DetachFromDisposeScope();
        return (keys[layer]!.alias(), values[layer]!.alias());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            keys[i] = values[i] = null;
        }
    }
}
