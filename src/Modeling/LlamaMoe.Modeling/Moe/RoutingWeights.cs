namespace LlamaMoe.Modeling.Moe;

/// <summary>How the weights of the selected experts are computed from the router logits.</summary>
public enum RoutingWeights
{
    /// <summary>
    /// v2 (HF Mixtral): softmax over all E logits in float32, top-k of the probabilities, renormalised to sum to 1.
    /// </summary>
    SoftmaxRenormalized,

    /// <summary>Softmax over all E logits in float32 and top-k, without renormalisation.</summary>
    Softmax,

    /// <summary>v1 <c>TopKBalancedNoisyGate</c>: top-k of the logits, then a float32 softmax over those k logits only.</summary>
    SoftmaxOverTopK,

    /// <summary>
    /// Every selected expert gets weight 1 ("unit routing"). With top-k = E and scale 1 the block sums all experts,
    /// which reproduces the dense MLP exactly: the lossless-construction check.
    /// </summary>
    Unit,
}
