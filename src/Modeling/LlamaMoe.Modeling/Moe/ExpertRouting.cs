using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>Top-k expert selection and routing weights from router logits.</summary>
public static class ExpertRouting
{
    /// <summary>
    /// Selects <paramref name="topK"/> experts per token and computes their weights.
    /// Softmaxes run in float32; the weights are returned in <paramref name="outputType"/>.
    /// </summary>
    /// <param name="logits">Router logits <c>(N, E)</c>.</param>
    /// <param name="topK">Experts per token.</param>
    /// <param name="mode">How the weights are computed.</param>
    /// <param name="outputType">Element type of the returned weights (the activation type).</param>
    /// <returns>Weights <c>(N, K)</c> and expert ids <c>(N, K)</c> (int64), best expert first.</returns>
    public static (Tensor Weights, Tensor Experts) Select(Tensor logits, int topK, RoutingWeights mode, ScalarType outputType)
    {
        using var scope = NewDisposeScope();
        var logits32 = logits.to_type(ScalarType.Float32); // (N, E)
        Tensor weights;
        Tensor selected;
        switch (mode)
        {
            case RoutingWeights.SoftmaxRenormalized:
            case RoutingWeights.Softmax:
                {
                    var probabilities = logits32.softmax(-1); // (N, E)
                    (weights, selected) = probabilities.topk(topK, dim: -1); // (N, K)
                    if (mode == RoutingWeights.SoftmaxRenormalized)
                    {
                        weights = weights.div(weights.sum(-1, keepdim: true)); // (N, K)
                    }

                    break;
                }

            case RoutingWeights.SoftmaxOverTopK:
                {
                    var (topLogits, indices) = logits32.topk(topK, dim: -1); // (N, K)
                    weights = topLogits.softmax(-1); // (N, K)
                    selected = indices;
                    break;
                }

            case RoutingWeights.Unit:
                {
                    var (_, indices) = logits32.topk(topK, dim: -1); // (N, K)
                    weights = ones_like(indices, dtype: ScalarType.Float32); // (N, K)
                    selected = indices;
                    break;
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown routing-weight mode.");
        }

        return (weights.to_type(outputType).MoveToOuterDisposeScope(), selected.MoveToOuterDisposeScope());
    }
}
