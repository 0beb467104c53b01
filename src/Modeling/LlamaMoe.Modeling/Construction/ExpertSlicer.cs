using LlamaMoe.Construction;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using static TorchSharp.torch;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Builds a <see cref="SparseMoeBlock"/> from a dense SwiGLU MLP and an <see cref="ExpertPartition"/> (spec §1.1):
/// expert e gets rows S_e of gate_proj (w1) and up_proj (w3) and columns S_e of down_proj (w2); the residual expert
/// gets S_res. A down_proj bias goes to the residual expert when there is one, otherwise it is divided by E over the
/// routed experts, so summing all experts with weight 1 reproduces the dense MLP.
/// </summary>
public static class ExpertSlicer
{
    /// <summary>Block options for <paramref name="partition"/> with the given routing (sizes and residual taken from the partition).</summary>
    public static SparseMoeBlockOptions OptionsFor(ExpertPartition partition, int hiddenSize, int topK, double scaleFactor, SparseMoeBlockOptions? template = null) =>
        (template ?? new SparseMoeBlockOptions(hiddenSize, partition.ExpertSizes, topK)) with
        {
            HiddenSize = hiddenSize,
            ExpertSizes = partition.ExpertSizes,
            TopK = topK,
            ScaleFactor = scaleFactor,
            ResidualSize = partition.Residual?.Length,
        };

    /// <summary>Copies the dense weights into <paramref name="block"/> (whose expert sizes must match the partition).</summary>
    /// <param name="block">The target block; its router is left unchanged.</param>
    /// <param name="dense">The dense MLP's weights (and biases if mlp_bias).</param>
    /// <param name="partition">The neuron sets.</param>
    /// <exception cref="LlamaMoeException">LMOE2109 when shapes or sizes disagree.</exception>
    public static void LoadDense(SparseMoeBlock block, DenseMlpWeights dense, ExpertPartition partition)
    {
        partition.Validate();
        var hidden = block.Options.HiddenSize;
        if (dense.GateProj.shape[0] != partition.NeuronCount || dense.GateProj.shape[1] != hidden
            || !dense.UpProj.shape.SequenceEqual(dense.GateProj.shape)
            || dense.DownProj.shape[0] != hidden || dense.DownProj.shape[1] != partition.NeuronCount
            || !block.Options.ExpertSizes.SequenceEqual(partition.ExpertSizes)
            || block.Options.ResidualSize != partition.Residual?.Length)
        {
            throw new LlamaMoeException(
                ConstructionErrorCodes.DenseWeightsMismatch,
                $"The dense MLP (gate_proj [{string.Join(", ", dense.GateProj.shape)}]) or the partition does not fit the MoE block (H={hidden}, experts [{string.Join(", ", block.Options.ExpertSizes)}]).",
                key: "block_sparse_moe",
                advice: "Build the block with ExpertSlicer.OptionsFor(partition, ...) from the same layer's weights.");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var downBiasShare = dense.DownBias is null ? null : block.Residual is null ? dense.DownBias.div(partition.ExpertCount) : zeros_like(dense.DownBias);
        for (var e = 0; e < partition.ExpertCount; e++)
        {
            CopyExpert(block.Experts[e], dense, partition.Experts[e], downBiasShare);
        }

        if (block.Residual is not null)
        {
            CopyExpert(block.Residual, dense, partition.Residual!, dense.DownBias);
        }
    }

    private static void CopyExpert(ExpertMlp expert, DenseMlpWeights dense, int[] neurons, Tensor? downBias)
    {
        var device = expert.W1.weight!.device;
        var index = tensor(neurons.Select(n => (long)n).ToArray(), device: dense.GateProj.device); // (m)
        expert.W1.weight!.copy_(dense.GateProj.index_select(0, index)); // (m, H)
        expert.W3.weight!.copy_(dense.UpProj.index_select(0, index)); // (m, H)
        expert.W2.weight!.copy_(dense.DownProj.index_select(1, index)); // (H, m)
        if (expert.W1.bias is not null)
        {
            var gateBias = dense.GateBias ?? throw MissingBias("gate_proj");
            var upBias = dense.UpBias ?? throw MissingBias("up_proj");
            expert.W1.bias.copy_(gateBias.index_select(0, index)); // (m)
            expert.W3.bias!.copy_(upBias.index_select(0, index)); // (m)
        }

        if (expert.W2.bias is not null)
        {
            if (downBias is null)
            {
                expert.W2.bias.zero_();
            }
            else
            {
                expert.W2.bias.copy_(downBias.to(device)); // (H)
            }
        }
    }

    private static LlamaMoeException MissingBias(string name) =>
        new(ConstructionErrorCodes.DenseWeightsMismatch, $"The MoE block has MLP biases but the dense {name} has none.", key: name + ".bias", advice: "Set mlp_bias to match the dense model.");
}
