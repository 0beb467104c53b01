using LlamaMoe.Modeling.Construction;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// <c>split-attention/gqa</c> construction (spec §2): fills an <see cref="AttentionMoeBlock"/> from a dense attention.
/// Expert e gets the q_proj rows of its query heads, a copy of its KV head's k_proj/v_proj rows and the matching
/// o_proj columns. An o_proj bias (attention_bias) is divided by n over the experts, so with every expert selected at
/// weight 1 the block sums to the dense attention.
/// </summary>
public static class AttentionMoeSlicer
{
    /// <summary>Copies the dense weights into <paramref name="block"/>; its router is left unchanged.</summary>
    /// <exception cref="LlamaMoeException">LMOE2304 when shapes, biases or the partition disagree with the block.</exception>
    public static void LoadDense(AttentionMoeBlock block, DenseAttentionWeights dense, AttentionExpertPartition partition)
    {
        CheckFit(block, dense, partition);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var outputBiasShare = dense.OBias?.div(partition.ExpertCount);                                         // (H)
        for (var e = 0; e < partition.ExpertCount; e++)
        {
            var queryRows = tensor(partition.QueryRows(e), device: dense.QProj.device);                        // (Gq·d)
            var kvRows = tensor(partition.KeyValueRows(e), device: dense.KProj.device);                        // (d)
            Copy(block.QueryProjections[e], dense.QProj.index_select(0, queryRows), dense.QBias?.index_select(0, queryRows), "q_proj");
            Copy(block.KeyProjections[e], dense.KProj.index_select(0, kvRows), dense.KBias?.index_select(0, kvRows), "k_proj");
            Copy(block.ValueProjections[e], dense.VProj.index_select(0, kvRows), dense.VBias?.index_select(0, kvRows), "v_proj");
            Copy(block.OutputProjections[e], dense.OProj.index_select(1, queryRows), outputBiasShare, "o_proj");
        }
    }

    /// <summary>Initialises the router with <see cref="RouterWeight"/> (seeded Kaiming-uniform rows, or zeros).</summary>
    public static void InitializeRouter(AttentionMoeBlock block, AttentionRouterInit init, long seed = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weight = block.Gate.InputProjection;                                                               // (n, H)
        weight.copy_(RouterWeight((int)weight.shape[0], (int)weight.shape[1], init, seed).to(weight.dtype).to(weight.device));
    }

    /// <summary>
    /// A float32 CPU router matrix <c>(n, H)</c>: U(−1/√H, 1/√H) drawn from a generator seeded with <paramref name="seed"/>
    /// (the same values <see cref="InitializeRouter"/> writes), or zeros. The caller owns the tensor.
    /// </summary>
    public static Tensor RouterWeight(int experts, int hidden, AttentionRouterInit init, long seed) =>
        init == AttentionRouterInit.Zero
            ? zeros(experts, hidden, ScalarType.Float32)                                                       // (n, H)
            : RouterInitialization.KaimingUniform(experts, hidden, new Generator((ulong)seed));                // (n, H)

    private static void Copy(Linear target, Tensor weight, Tensor? bias, string name)
    {
        target.weight!.copy_(weight.to(target.weight!.device));
        if (target.bias is not null)
        {
            if (bias is null)
            {
                throw Misfit($"The attention-MoE block has a {name} bias but the dense attention has none.", name + ".bias");
            }

            target.bias.copy_(bias.to(target.bias.device));
        }
    }

    private static void CheckFit(AttentionMoeBlock block, DenseAttentionWeights dense, AttentionExpertPartition partition)
    {
        var hidden = block.HiddenSize;
        var d = partition.HeadDim;
        var fits = partition.ExpertCount == block.Options.NumExperts
            && partition.QueryHeadsPerExpert == block.QueryHeadsPerExpert
            && d == block.HeadDim
            && dense.QProj.shape.SequenceEqual(new long[] { partition.DenseQueryHeads * d, hidden })
            && dense.KProj.shape.SequenceEqual(new long[] { partition.DenseKeyValueHeads * d, hidden })
            && dense.VProj.shape.SequenceEqual(dense.KProj.shape)
            && dense.OProj.shape.SequenceEqual(new long[] { hidden, partition.DenseQueryHeads * d });
        if (!fits)
        {
            throw Misfit(
                $"The dense attention (q_proj [{string.Join(", ", dense.QProj.shape)}], k_proj [{string.Join(", ", dense.KProj.shape)}]) or the partition ({partition.ExpertCount} experts × {partition.QueryHeadsPerExpert} heads) does not fit the attention-MoE block (H={hidden}, {block.Options.NumExperts} experts × {block.QueryHeadsPerExpert} heads).",
                "self_attn");
        }
    }

    private static LlamaMoeException Misfit(string message, string key) =>
        AttentionMoeErrors.Create(AttentionMoeErrors.WeightsDoNotFit, message, key, "Build the block and the partition from the same dense config (AttentionExpertPartition.FromConfig with the options' split).");
}
