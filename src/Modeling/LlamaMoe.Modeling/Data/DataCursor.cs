namespace LlamaMoe.Modeling.Data;

/// <summary>Where a <see cref="BatchStream"/> stands: the epoch and the index of the next row in that epoch's order.</summary>
/// <param name="Epoch">The 0-based epoch.</param>
/// <param name="Position">The index of the next row in the epoch's shuffled order.</param>
public sealed record DataCursor(int Epoch, int Position);

/// <summary>
/// Yields batches of row indices in a shuffled order that depends only on (seed, epoch), so a run resumed from a
/// saved <see cref="DataCursor"/> sees exactly the rows an uninterrupted run would. A batch that reaches the end
/// of an epoch continues with the start of the next one, so every batch has the same size.
/// </summary>
public sealed class BatchStream
{
    private readonly int rowCount;
    private readonly int batchSize;
    private readonly long seed;
    private readonly bool shuffle;
    private int[] order;

    /// <summary>Creates the stream at <paramref name="cursor"/> (the start when null).</summary>
    public BatchStream(int rowCount, int batchSize, long seed, bool shuffle = true, DataCursor? cursor = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        this.rowCount = rowCount;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        Cursor = cursor ?? new DataCursor(0, 0);
        if (Cursor.Position < 0 || Cursor.Position > rowCount || Cursor.Epoch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), $"cursor {Cursor} is outside a dataset of {rowCount} rows");
        }

        order = OrderOf(Cursor.Epoch);
    }

    /// <summary>The position of the next batch.</summary>
    public DataCursor Cursor { get; private set; }

    /// <summary>The row indices of the next batch; advances the cursor.</summary>
    public int[] Next()
    {
        var batch = new int[batchSize];
        var (epoch, position) = Cursor;
        for (var i = 0; i < batchSize; i++)
        {
            if (position == rowCount)
            {
                epoch++;
                position = 0;
                order = OrderOf(epoch);
            }

            batch[i] = order[position++];
        }

        Cursor = new DataCursor(epoch, position);
        return batch;
    }

    private int[] OrderOf(int epoch) =>
        shuffle ? new DeterministicRandom(DeterministicRandom.Derive(seed, epoch)).Permutation(rowCount) : Enumerable.Range(0, rowCount).ToArray();
}
