using LlamaMoe.Modeling.Config;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>The heads one attention expert owns.</summary>
/// <param name="QueryHeads">Dense query-head indices, ascending and contiguous (rows <c>h·d … h·d+d−1</c> of q_proj, columns of o_proj).</param>
/// <param name="KeyValueHead">The dense KV head whose k_proj/v_proj rows the expert copies.</param>
public sealed record AttentionExpertHeads(IReadOnlyList<int> QueryHeads, int KeyValueHead);

/// <summary>
/// <c>split-attention/gqa</c> (spec §2): expert <c>e = g·split + s</c> owns query heads
/// <c>g·G + s·G/split … g·G + (s+1)·G/split − 1</c> of KV group g (G = heads / kv_heads) and a copy of KV head g.
/// With split 1 the experts partition the dense attention exactly; with split &gt; 1 the query heads are still
/// partitioned and each KV head is copied into its group's split experts.
/// </summary>
public sealed class AttentionExpertPartition
{
    private AttentionExpertPartition(IReadOnlyList<AttentionExpertHeads> experts, int headDim, int queryHeads, int keyValueHeads)
    {
        Experts = experts;
        HeadDim = headDim;
        DenseQueryHeads = queryHeads;
        DenseKeyValueHeads = keyValueHeads;
    }

    /// <summary>The experts, in expert-id order.</summary>
    public IReadOnlyList<AttentionExpertHeads> Experts { get; }

    /// <summary>Number of experts n.</summary>
    public int ExpertCount => Experts.Count;

    /// <summary>Query heads per expert (<c>G / split</c>).</summary>
    public int QueryHeadsPerExpert => Experts[0].QueryHeads.Count;

    /// <summary>Per-head width d.</summary>
    public int HeadDim { get; }

    /// <summary>Query heads of the dense attention.</summary>
    public int DenseQueryHeads { get; }

    /// <summary>KV heads of the dense attention.</summary>
    public int DenseKeyValueHeads { get; }

    /// <summary>Builds the partition of <paramref name="config"/>'s attention for <paramref name="split"/> experts per KV group.</summary>
    /// <exception cref="LlamaMoeException">LMOE2301 when split &lt; 1; LMOE2302 when split does not divide the group size.</exception>
    public static AttentionExpertPartition FromConfig(LlamaConfig config, int split)
    {
        if (split < 1)
        {
            throw AttentionMoeErrors.Create(AttentionMoeErrors.InvalidOptions, $"attention_moe.split must be at least 1, got {split}.", "attention_moe.split", "Use 1, 2 or 4.");
        }

        var groupSize = config.NumAttentionHeads / config.NumKeyValueHeads;
        if (groupSize % split != 0)
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.DoesNotFitModel,
                $"attention_moe.split {split} does not divide the {groupSize} query heads of each KV group.",
                "attention_moe.split",
                $"Use a divisor of {groupSize}.");
        }

        var perExpert = groupSize / split;
        var experts = new List<AttentionExpertHeads>(config.NumKeyValueHeads * split);
        for (var group = 0; group < config.NumKeyValueHeads; group++)
        {
            for (var part = 0; part < split; part++)
            {
                var first = (group * groupSize) + (part * perExpert);
                experts.Add(new AttentionExpertHeads(Enumerable.Range(first, perExpert).ToArray(), group));
            }
        }

        return new AttentionExpertPartition(experts, config.HeadDim, config.NumAttentionHeads, config.NumKeyValueHeads);
    }

    /// <summary>The dense q_proj rows (= o_proj columns) of expert <paramref name="expert"/>, ascending.</summary>
    public long[] QueryRows(int expert) =>
        Experts[expert].QueryHeads.SelectMany(head => Enumerable.Range(head * HeadDim, HeadDim)).Select(row => (long)row).ToArray();

    /// <summary>The dense k_proj/v_proj rows of expert <paramref name="expert"/>, ascending.</summary>
    public long[] KeyValueRows(int expert) =>
        Enumerable.Range(Experts[expert].KeyValueHead * HeadDim, HeadDim).Select(row => (long)row).ToArray();
}
