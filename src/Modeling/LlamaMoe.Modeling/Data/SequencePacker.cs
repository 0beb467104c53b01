namespace LlamaMoe.Modeling.Data;

/// <summary>Turns encoded examples into fixed-length rows, by packing or padding.</summary>
public static class SequencePacker
{
    /// <summary>
    /// Builds the rows. Examples are truncated to T tokens; examples without any target token (after truncation) are
    /// dropped, since they would contribute nothing. Packing is greedy and keeps the example order: an example that
    /// does not fit the rest of the current row starts a new row.
    /// </summary>
    public static IReadOnlyList<PackedRow> Build(IReadOnlyList<EncodedExample> examples, PackingOptions options)
    {
        if (options.SequenceLength < 2)
        {
            throw DataErrors.BadOption("sequence_length", "the sequence length must be at least 2");
        }

        var rows = new List<PackedRow>();
        var pending = new List<EncodedExample>();
        var used = 0;
        foreach (var original in examples)
        {
            var example = Truncate(original, options.SequenceLength);
            if (!example.LossMask.Skip(1).Any(m => m))
            {
                continue;
            }

            if (!options.Pack || used + example.Length > options.SequenceLength)
            {
                if (pending.Count > 0)
                {
                    rows.Add(MakeRow(pending, options));
                }

                pending.Clear();
                used = 0;
            }

            pending.Add(example);
            used += example.Length;
        }

        if (pending.Count > 0)
        {
            rows.Add(MakeRow(pending, options));
        }

        return rows;
    }

    private static EncodedExample Truncate(EncodedExample example, int length) =>
        example.Length <= length ? example : new EncodedExample(example.Ids[..length], example.LossMask[..length]);

    private static PackedRow MakeRow(List<EncodedExample> examples, PackingOptions options)
    {
        var t = options.SequenceLength;
        var ids = Enumerable.Repeat(options.PadId, t).ToArray();
        var mask = new bool[t];
        var positions = new int[t];
        var documents = Enumerable.Repeat(-1, t).ToArray();
        var offset = 0;
        for (var d = 0; d < examples.Count; d++)
        {
            var example = examples[d];
            for (var i = 0; i < example.Length; i++)
            {
                ids[offset + i] = example.Ids[i];
                mask[offset + i] = i > 0 && example.LossMask[i];
                positions[offset + i] = i;
                documents[offset + i] = d;
            }

            offset += example.Length;
        }

        return new PackedRow(ids, mask, positions, documents);
    }
}
