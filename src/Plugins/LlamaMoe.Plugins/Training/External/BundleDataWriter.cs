using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>The data/ facts the other bundle files need.</summary>
/// <param name="Rows">Rows written (max-steps × global batch).</param>
/// <param name="Tokens">Non-padding tokens.</param>
/// <param name="SupervisedTokens">Tokens with a label.</param>
public sealed record BundleData(int Rows, long Tokens, long SupervisedTokens);

/// <summary>
/// Writes the packed rows in the order the run consumes them — step k reads rows [k·G, (k+1)·G) whatever the world size —
/// as int32 safetensors shards (<c>input_ids</c>, <c>labels</c> unshifted with −100 off target, <c>position_ids</c>
/// restarting per document, <c>doc_count</c>) plus <c>data/manifest.json</c> (format llamamoe-packed-v1).
/// </summary>
public static class BundleDataWriter
{
    /// <summary>The label of a token that is not a target.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>Rows per shard.</summary>
    public const int RowsPerShard = 4096;

    /// <summary>Writes the shards and the manifest into <paramref name="directory"/>.</summary>
    /// <param name="directory">The bundle's data/ folder.</param>
    /// <param name="rows">The packed rows.</param>
    /// <param name="steps">Optimizer steps of the run.</param>
    /// <param name="globalBatch">Rows per optimizer step.</param>
    /// <param name="seed">The data-order seed (the local trainer's).</param>
    /// <param name="padId">The padding id.</param>
    /// <param name="tokenizerDigest">sha256 of the tokenizer file.</param>
    public static BundleData Write(string directory, IReadOnlyList<PackedRow> rows, int steps, int globalBatch, long seed, int padId, string tokenizerDigest)
    {
        Directory.CreateDirectory(directory);
        var order = Order(rows.Count, steps, globalBatch, seed);
        var seqLen = rows[0].Length;
        var shards = new JsonArray();
        long tokens = 0, supervised = 0;
        for (var start = 0; start < order.Count; start += RowsPerShard)
        {
            var count = Math.Min(RowsPerShard, order.Count - start);
            var name = $"train-{shards.Count:D5}.safetensors";
            var (shardTokens, shardSupervised) = WriteShard(Path.Combine(directory, name), order.Skip(start).Take(count).Select(i => rows[i]).ToList(), seqLen);
            tokens += shardTokens;
            supervised += shardSupervised;
            shards.Add(new JsonObject { ["path"] = name, ["sha256"] = BundleFiles.Sha256(Path.Combine(directory, name)), ["rows"] = count });
        }

        BundleFiles.WriteText(Path.Combine(directory, "manifest.json"), BundleFiles.Json(new JsonObject
        {
            ["format"] = "llamamoe-packed-v1",
            ["seq_len"] = seqLen,
            ["rows"] = order.Count,
            ["tokens"] = tokens,
            ["supervised_tokens"] = supervised,
            ["pad_id"] = padId,
            ["seed"] = seed,
            ["tokenizer_digest"] = tokenizerDigest,
            ["shards"] = shards,
            ["eval_shards"] = new JsonArray(),
        }));
        return new BundleData(order.Count, tokens, supervised);
    }

    /// <summary>The row indices in consumption order: the local trainer's shuffled batch stream for <paramref name="steps"/> steps.</summary>
    public static List<int> Order(int rowCount, int steps, int globalBatch, long seed)
    {
        var stream = new BatchStream(rowCount, globalBatch, seed);
        var order = new List<int>(checked(steps * globalBatch));
        for (var step = 0; step < steps; step++)
        {
            order.AddRange(stream.Next());
        }

        return order;
    }

    /// <summary>The HF labels of a row: labels[t] = ids[t] where token t is a target of the same document as token t−1, else −100.</summary>
    public static int[] Labels(PackedRow row)
    {
        var targets = row.TargetMask(); // targets[t]: logits at t predict token t+1
        var labels = new int[row.Length];
        labels[0] = IgnoreIndex;
        for (var t = 1; t < row.Length; t++)
        {
            labels[t] = targets[t - 1] ? row.Ids[t] : IgnoreIndex;
        }

        return labels;
    }

    private static (long Tokens, long Supervised) WriteShard(string path, IReadOnlyList<PackedRow> rows, int seqLen)
    {
        var ids = new int[rows.Count * seqLen];
        var labels = new int[ids.Length];
        var positions = new int[ids.Length];
        var documents = new int[rows.Count];
        long tokens = 0, supervised = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var rowLabels = Labels(row);
            Array.Copy(row.Ids, 0, ids, r * seqLen, seqLen);
            Array.Copy(rowLabels, 0, labels, r * seqLen, seqLen);
            Array.Copy(row.PositionIds, 0, positions, r * seqLen, seqLen);
            documents[r] = row.DocumentIds.Where(d => d >= 0).Distinct().Count();
            tokens += row.ValidLength;
            supervised += rowLabels.Count(l => l != IgnoreIndex);
        }

        using var scope = NewDisposeScope();
        var shape = new long[] { rows.Count, seqLen };
        SafetensorsWriter.Write(path,
        [
            new("input_ids", tensor(ids, shape, ScalarType.Int32)),         // (R, T)
            new("labels", tensor(labels, shape, ScalarType.Int32)),         // (R, T)
            new("position_ids", tensor(positions, shape, ScalarType.Int32)), // (R, T)
            new("doc_count", tensor(documents, [rows.Count], ScalarType.Int32)), // (R)
        ]);
        return (tokens, supervised);
    }
}
