using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// The streamed output tensors of one attention-MoE layer (spec §2, the tensors <see cref="AttentionMoeSlicer"/> fills in
/// memory): the router, then q_proj.{e} of every expert (its query heads' rows), k_proj.{e} and v_proj.{e} (a copy of
/// its KV head's rows), o_proj.{e} (the query heads' columns), so each dense matrix is read once. With attention_bias the
/// q/k/v biases are sliced the same way and the o_proj bias is divided by n over the experts.
/// </summary>
internal static class AttentionTensorPlanner
{
    /// <summary>The dense attention keys an attention-MoE layer replaces.</summary>
    public static IEnumerable<string> DenseKeys(int layer, bool bias)
    {
        foreach (var projection in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
        {
            yield return $"model.layers.{layer}.self_attn.{projection}.weight";
            if (bias)
            {
                yield return $"model.layers.{layer}.self_attn.{projection}.bias";
            }
        }
    }

    public static IEnumerable<StreamedTensor> Plan(LlamaConfig dense, int layer, AttentionMoePlan plan, ShardedCheckpoint checkpoint, DenseTensorCache cache)
    {
        var prefix = $"model.layers.{layer}.self_attn.";
        var options = plan.Options;
        var partition = AttentionExpertPartition.FromConfig(dense, options.Split);
        var dtype = checkpoint.Info(prefix + "q_proj.weight").ScalarType;
        var hidden = (long)dense.HiddenSize;
        var headDim = (long)dense.HeadDim;
        var queryWidth = partition.QueryHeadsPerExpert * headDim;
        var bias = dense.AttentionBias;
        CheckShapes(dense, prefix, checkpoint, partition);
        var router = plan.RouterWeights[layer];
        yield return new StreamedTensor(prefix + "gate.weight", dtype, [options.NumExperts, hidden], () => router.detach().cpu().to(dtype).clone()); // (n, H)

        var rowSlices = new (string Projection, Func<int, long[]> Rows, long Width)[]
        {
            ("q_proj", partition.QueryRows, queryWidth),
            ("k_proj", partition.KeyValueRows, headDim),
            ("v_proj", partition.KeyValueRows, headDim),
        };
        foreach (var (projection, rowsOf, width) in rowSlices)
        {
            var key = prefix + projection;
            for (var e = 0; e < options.NumExperts; e++)
            {
                var rows = rowsOf(e);
                yield return new StreamedTensor($"{key}.{e}.weight", dtype, [width, hidden], () => cache.Get(key + ".weight").index_select(0, tensor(rows))); // (w, H)
                if (bias)
                {
                    yield return new StreamedTensor($"{key}.{e}.bias", dtype, [width], () => checkpoint.Read(key + ".bias").index_select(0, tensor(rows))); // (w)
                }
            }
        }

        var output = prefix + "o_proj";
        for (var e = 0; e < options.NumExperts; e++)
        {
            var columns = partition.QueryRows(e);
            yield return new StreamedTensor($"{output}.{e}.weight", dtype, [hidden, queryWidth], () => cache.Get(output + ".weight").index_select(1, tensor(columns))); // (H, Gq·d)
            if (bias)
            {
                yield return new StreamedTensor($"{output}.{e}.bias", dtype, [hidden], () => checkpoint.Read(output + ".bias").div(partition.ExpertCount)); // (H)
            }
        }
    }

    private static void CheckShapes(LlamaConfig dense, string prefix, ShardedCheckpoint checkpoint, AttentionExpertPartition partition)
    {
        var hidden = (long)dense.HiddenSize;
        var expected = new Dictionary<string, long[]>
        {
            ["q_proj.weight"] = [partition.DenseQueryHeads * (long)partition.HeadDim, hidden],
            ["k_proj.weight"] = [partition.DenseKeyValueHeads * (long)partition.HeadDim, hidden],
            ["v_proj.weight"] = [partition.DenseKeyValueHeads * (long)partition.HeadDim, hidden],
            ["o_proj.weight"] = [hidden, partition.DenseQueryHeads * (long)partition.HeadDim],
        };
        foreach (var (name, shape) in expected)
        {
            if (!checkpoint.Names.Contains(prefix + name) || !checkpoint.Info(prefix + name).Shape.SequenceEqual(shape))
            {
                throw MoeConverter.Mismatch($"the dense checkpoint lacks '{prefix + name}' of shape [{string.Join(", ", shape)}] to slice into attention experts", prefix + name);
            }
        }
    }
}
