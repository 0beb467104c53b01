namespace LlamaMoe.Modeling.Construction;

/// <summary>How neuron activations are transformed before their co-activation products are summed (v1 graph split).</summary>
public enum CoactivationKernel
{
    /// <summary>The activations as they are.</summary>
    Plain,

    /// <summary>Absolute values <c>|a|</c>.</summary>
    L1,

    /// <summary>Squares <c>a²</c>.</summary>
    L2,
}
