namespace LlamaMoe.Modeling.Moe;

/// <summary>How a <see cref="SparseMoeBlock"/> runs its routed experts.</summary>
public enum ExpertDispatchMode
{
    /// <summary>
    /// Grouped batched matmuls (<see cref="GroupedExpertDispatch"/>) when the experts share one size and have no biases
    /// and the load is even enough; otherwise one forward per expert (<see cref="ExpertDispatch"/>).
    /// </summary>
    Auto,

    /// <summary>Always one forward per expert on its contiguous slice (<see cref="ExpertDispatch"/>).</summary>
    PerExpert,
}
