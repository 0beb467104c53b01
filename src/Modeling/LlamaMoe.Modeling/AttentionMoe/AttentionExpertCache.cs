using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// The KV cache of one attention-MoE layer (kept in <see cref="KvCache.LayerState{T}"/>): per expert, the compact
/// keys and values <c>(B, 1, S_e, hd)</c> of only the tokens routed to it (RoPE already applied at their original
/// positions), their absolute sequence indices <c>(B, S_e)</c> and a validity mask <c>(B, S_e)</c> (false for padding
/// slots, where another batch row routed more tokens to the expert in the same step). Tensors are detached and owned here.
/// </summary>
public sealed class AttentionExpertCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;
    private readonly Tensor?[] positions;
    private readonly Tensor?[] valid;

    /// <summary>Creates an empty cache for <paramref name="experts"/> experts.</summary>
    public AttentionExpertCache(int experts)
    {
        keys = new Tensor?[experts];
        values = new Tensor?[experts];
        positions = new Tensor?[experts];
        valid = new Tensor?[experts];
    }

    /// <summary>Positions the layer has seen (all tokens, routed or not).</summary>
    public long Length { get; private set; }

    /// <summary>The batch size of the cached sequences, or 0 before the first step.</summary>
    public long BatchSize { get; private set; }

    /// <summary>Cache slots of expert <paramref name="expert"/> (the most tokens routed to it in any batch row, plus padding).</summary>
    public long Slots(int expert) => keys[expert]?.shape[2] ?? 0;

    /// <summary>Absolute sequence indices <c>(B, S_e)</c> of expert <paramref name="expert"/>'s valid cached tokens per batch row.</summary>
    public IReadOnlyList<long[]> CachedPositions(int expert)
    {
        if (positions[expert] is null)
        {
            return Enumerable.Range(0, (int)BatchSize).Select(_ => Array.Empty<long>()).ToArray();
        }

        using var scope = NewDisposeScope();
        var rows = new List<long[]>();
        for (var row = 0; row < BatchSize; row++)
        {
            var mask = valid[expert]![row].cpu();
            rows.Add(positions[expert]![row].cpu().masked_select(mask).data<long>().ToArray());
        }

        return rows;
    }

    /// <summary>Checks (and on the first step records) the batch size.</summary>
    /// <exception cref="LlamaMoeException">LMOE2307 when the batch size changes between steps.</exception>
    public void CheckBatch(long batchSize)
    {
        if (BatchSize != 0 && BatchSize != batchSize)
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.CacheMismatch,
                $"The attention-MoE KV cache holds {BatchSize} sequences but the step has {batchSize}.",
                "kv_cache",
                "Use a fresh KvCache for every batch of sequences.");
        }

        BatchSize = batchSize;
    }

    /// <summary>
    /// Appends expert <paramref name="expert"/>'s new compact keys/values <c>(B, 1, L, hd)</c>, their absolute indices
    /// <c>(B, L)</c> and validity <c>(B, L)</c>; returns the full cached tensors (aliases the caller disposes).
    /// </summary>
    public (Tensor Keys, Tensor Values, Tensor Positions, Tensor Valid) Append(int expert, Tensor newKeys, Tensor newValues, Tensor newPositions, Tensor newValid)
    {
        Replace(keys, expert, newKeys, 2);
        Replace(values, expert, newValues, 2);
        Replace(positions, expert, newPositions, 1);
        Replace(valid, expert, newValid, 1);
        return (keys[expert]!.alias(), values[expert]!.alias(), positions[expert]!.alias(), valid[expert]!.alias());
    }

    /// <summary>Marks <paramref name="tokens"/> more positions as seen; returns the new <see cref="Length"/>.</summary>
    public long Advance(long tokens) => Length += tokens;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var store in new[] { keys, values, positions, valid })
        {
            for (var i = 0; i < store.Length; i++)
            {
                store[i]?.Dispose();
                store[i] = null;
            }
        }
    }

    private static void Replace(Tensor?[] store, int expert, Tensor addition, int dim)
    {
        var joined = store[expert] is { } old ? torch.cat([old, addition], dim) : addition.alias();
        store[expert]?.Dispose();
        store[expert] = joined.detach().DetachFromDisposeScope();
    }
}
