using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>
/// Folds an affine output correction <c>y ↦ a ⊙ y + b</c> into an MoE module's expert weights (spec §1.4): every
/// expert's w2 (or attention o_proj) rows and bias are multiplied by a; b goes to the residual expert's w2 bias when
/// there is one (always on, weight 1), else to every routed expert's bias as <c>b / (scale · Σw)</c>, where Σw, the sum of
/// the selected experts' routing weights, is 1 (softmax renormalised, softmax over the top-k, softmax with k = E) or k (unit).
/// Exact whenever that sum is constant; v2 adds b unscaled, which equals this only at scale 1.
/// </summary>
public static class AlignmentFolding
{
    /// <summary>Folds <paramref name="scale"/> (and <paramref name="bias"/> when given) into the MLP-MoE block of layer <paramref name="layer"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2501 when a bias is given but cannot be folded exactly; LMOE2502 when the block has no w2 bias for it.</exception>
    public static void FoldMlp(SparseMoeBlock block, Tensor scale, Tensor? bias, int layer)
    {
        var options = block.Options;
        var experts = block.Experts.Select(e => e.W2).ToList();
        if (block.Residual is { } residual)
        {
            Fold(experts, scale, null, layer, "block_sparse_moe");
            Fold([residual.W2], scale, bias, layer, "block_sparse_moe.mlp_residual");
            return;
        }

        var share = bias is null ? 0 : 1.0 / (options.ScaleFactor * WeightSum(options.Weights, options.TopK, options.ExpertCount, layer, "block_sparse_moe"));
        Fold(experts, scale, bias?.mul(share), layer, "block_sparse_moe");
    }

    /// <summary>Folds <paramref name="scale"/> (and <paramref name="bias"/> when given) into the attention experts' o_proj of layer <paramref name="layer"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2501 when a bias is given but cannot be folded exactly; LMOE2502 when o_proj has no bias for it.</exception>
    public static void FoldAttention(AttentionMoeBlock block, Tensor scale, Tensor? bias, int layer)
    {
        var options = block.Options;
        var share = bias is null ? 0 : 1.0 / (options.ScaleFactor * WeightSum(options.Weights, options.TopK, options.NumExperts, layer, "self_attn"));
        Fold(block.OutputProjections, scale, bias?.mul(share), layer, "self_attn");
    }

    /// <summary>Σw of the selected experts when it is the same for every token.</summary>
    private static double WeightSum(RoutingWeights weights, int topK, int experts, int layer, string module) => weights switch
    {
        RoutingWeights.SoftmaxRenormalized or RoutingWeights.SoftmaxOverTopK => 1.0,
        RoutingWeights.Unit => topK,
        RoutingWeights.Softmax when topK == experts => 1.0,
        _ => throw new LlamaMoeException(AlignmentErrors.NotFoldable,
            $"layer {layer}'s {module} routing weights (softmax over all {experts} experts, top-{topK}) do not sum to a constant, so the alignment bias cannot be folded into the experts",
            key: DenseTensorNames.InLayer(layer, module), advice: "Align with bias: false (scale only), or use softmax-renormalized routing weights."),
    };

    private static void Fold(IReadOnlyList<Linear> projections, Tensor scale, Tensor? bias, int layer, string module)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var projection in projections)
        {
            var weight = projection.weight!;                                                        // (H, m)
            weight.mul_(scale.to(weight.dtype).to(weight.device).unsqueeze(1));
            if (projection.bias is { } existing)
            {
                existing.mul_(scale.to(existing.dtype).to(existing.device));                          // (H)
                if (bias is not null)
                {
                    existing.add_(bias.to(existing.dtype).to(existing.device));                       // (H)
                }
            }
            else if (bias is not null)
            {
                throw new LlamaMoeException(AlignmentErrors.ModelMismatch, $"layer {layer}'s {module} output projection has no bias to fold the alignment bias into",
                    key: DenseTensorNames.InLayer(layer, module), advice: "Align through DistributionAlignment.Align, which adds the biases.");
            }
        }
    }
}
