using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// Per-layer key/value cache for incremental decoding. Keys and values are stored as <c>(B, KV, S, hd)</c>
/// (before the GQA repeat); the cache owns them and disposes them when replaced or disposed. Attention blocks that
/// cache differently (attention-MoE keeps one compact cache per expert) keep their own per-layer state through
/// <see cref="LayerState{T}"/> and report their length with <see cref="SetLayerLength"/>.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;
    private readonly long[] lengths;
    private readonly IDisposable?[] layerStates;

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers.</summary>
    public KvCache(int layers)
    {
        keys = new Tensor?[layers];
        values = new Tensor?[layers];
        lengths = new long[layers];
        layerStates = new IDisposable?[layers];
    }

    /// <summary>Number of cached positions (of layer 0).</summary>
    public long Length => lengths[0];

    /// <summary>Number of positions layer <paramref name="layer"/> has seen.</summary>
    public long LayerLength(int layer) => lengths[layer];

    /// <summary>Appends new keys/values <c>(B, KV, T, hd)</c> for <paramref name="layer"/> and returns the full <c>(B, KV, S+T, hd)</c> tensors.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        var k = keys[layer] is { } oldK ? torch.cat([oldK, newKeys], dim: 2) : newKeys.alias();
        var v = values[layer] is { } oldV ? torch.cat([oldV, newValues], dim: 2) : newValues.alias();
        keys[layer]?.Dispose();
        values[layer]?.Dispose();
        keys[layer] = k.detach().DetachFromDisposeScope();
        values[layer] = v.detach().DetachFromDisposeScope();
        lengths[layer] = keys[layer]!.shape[2];
        return (keys[layer]!.alias(), values[layer]!.alias());
    }

    /// <summary>
    /// The state an attention block keeps for <paramref name="layer"/> instead of <see cref="Append"/> (created by
    /// <paramref name="create"/> on first use, disposed with the cache).
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer already holds state of another type.</exception>
    public T LayerState<T>(int layer, Func<T> create)
        where T : class, IDisposable
    {
        layerStates[layer] ??= create();
        return layerStates[layer] as T
            ?? throw new InvalidOperationException($"Layer {layer} of the KV cache holds {layerStates[layer]!.GetType().Name}, not {typeof(T).Name}.");
    }

    /// <summary>Records that <paramref name="layer"/> has now seen <paramref name="length"/> positions (for blocks using <see cref="LayerState{T}"/>).</summary>
    public void SetLayerLength(int layer, long length) => lengths[layer] = length;

    /// <inheritdoc />
    public void Dispose()
    {
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            layerStates[i]?.Dispose();
            keys[i] = values[i] = null;
            layerStates[i] = null;
            lengths[i] = 0;
        }
    }
}
