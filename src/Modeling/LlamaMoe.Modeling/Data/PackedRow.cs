namespace LlamaMoe.Modeling.Data;

/// <summary>
/// One training row of <c>T</c> tokens holding one example (padding mode) or several (packing mode).
/// <see cref="DocumentIds"/> numbers the examples in the row from 0 and is −1 on padding; <see cref="PositionIds"/>
/// restart at 0 for every example.
/// </summary>
/// <param name="Ids">Token ids, padded with the pad id.</param>
/// <param name="LossMask">Per token: whether predicting it counts (false on padding).</param>
/// <param name="PositionIds">Position of each token inside its example (0 on padding).</param>
/// <param name="DocumentIds">Index of the example each token belongs to, −1 on padding.</param>
public sealed record PackedRow(int[] Ids, bool[] LossMask, int[] PositionIds, int[] DocumentIds)
{
    /// <summary>The row length T.</summary>
    public int Length => Ids.Length;

    /// <summary>The number of non-padding tokens.</summary>
    public int ValidLength => DocumentIds.Count(d => d >= 0);

    /// <summary>
    /// The shifted target mask: entry t is true when the logits at position t predict a counted target, i.e. when
    /// token t+1 is a target of the same example as token t. The last entry is always false.
    /// </summary>
    public bool[] TargetMask()
    {
        var mask = new bool[Length];
        for (var t = 0; t + 1 < Length; t++)
        {
            mask[t] = DocumentIds[t] >= 0 && DocumentIds[t + 1] == DocumentIds[t] && LossMask[t + 1];
        }

        return mask;
    }

    /// <summary>
    /// Whether query position <paramref name="query"/> may attend to key position <paramref name="key"/>: causal inside
    /// the same example. A padding token attends only to itself, so no attention row is empty.
    /// </summary>
    public bool MayAttend(int query, int key) =>
        key <= query && (DocumentIds[query] >= 0 ? DocumentIds[key] == DocumentIds[query] : key == query);
}
