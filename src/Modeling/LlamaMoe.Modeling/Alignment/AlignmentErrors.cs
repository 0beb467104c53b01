namespace LlamaMoe.Modeling.Alignment;

/// <summary>The stable LMOE25xx codes of distribution alignment.</summary>
public static class AlignmentErrors
{
    /// <summary>
    /// The alignment bias cannot be folded exactly: the routing weights of a module without a residual expert do not sum to
    /// a constant (softmax over all experts with top-k &lt; E).
    /// </summary>
    public const string NotFoldable = "LMOE2501";

    /// <summary>The model to align is not an MoE model, or its architecture differs from the dense reference.</summary>
    public const string ModelMismatch = "LMOE2502";

    /// <summary>No calibration sequence with at least one token was given.</summary>
    public const string NoData = "LMOE2503";
}
