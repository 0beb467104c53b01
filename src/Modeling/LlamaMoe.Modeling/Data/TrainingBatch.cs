using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Data;

/// <summary>
/// The tensors of one micro-batch. Dispose it after use.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    /// <summary>Creates the batch (takes ownership of the tensors); the counts are read from the masks (a host synchronisation).</summary>
    public TrainingBatch(Tensor inputIds, Tensor targets, Tensor targetMask, Tensor tokenMask, Tensor? positionIds, Tensor? attentionMask)
        : this(inputIds, targets, targetMask, tokenMask, positionIds, attentionMask, (long)targetMask.sum().item<float>(), tokenMask.sum().item<long>())
    {
    }

    /// <summary>Creates the batch (takes ownership of the tensors) with counts the caller computed on the host.</summary>
    public TrainingBatch(Tensor inputIds, Tensor targets, Tensor targetMask, Tensor tokenMask, Tensor? positionIds, Tensor? attentionMask, long targetCount, long tokenCount)
    {
        InputIds = inputIds;
        Targets = targets;
        TargetMask = targetMask;
        TokenMask = tokenMask;
        PositionIds = positionIds;
        AttentionMask = attentionMask;
        TargetCount = targetCount;
        TokenCount = tokenCount;
    }

    /// <summary>Token ids <c>(B, T)</c> int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>Next-token targets <c>(B, T)</c> int64: <c>Targets[b, t] = InputIds[b, t + 1]</c> (0 where unused).</summary>
    public Tensor Targets { get; }

    /// <summary>Float32 <c>(B, T)</c>: 1 where the prediction at t counts in the loss (see <see cref="PackedRow.TargetMask"/>).</summary>
    public Tensor TargetMask { get; }

    /// <summary>Bool <c>(B·T)</c>, flattened like router logits: true on non-padding tokens (for router losses and statistics).</summary>
    public Tensor TokenMask { get; }

    /// <summary>Position ids <c>(B, T)</c> int64 restarting per packed example, or null for the default 0..T-1.</summary>
    public Tensor? PositionIds { get; }

    /// <summary>Bool <c>(B, 1, T, T)</c>, true where a query may attend a key (block-diagonal causal), or null for plain causal.</summary>
    public Tensor? AttentionMask { get; }

    /// <summary>The number of counted targets.</summary>
    public long TargetCount { get; }

    /// <summary>The number of non-padding tokens.</summary>
    public long TokenCount { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        InputIds.Dispose();
        Targets.Dispose();
        TargetMask.Dispose();
        TokenMask.Dispose();
        PositionIds?.Dispose();
        AttentionMask?.Dispose();
    }
}
