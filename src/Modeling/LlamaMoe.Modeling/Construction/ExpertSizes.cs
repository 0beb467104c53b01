namespace LlamaMoe.Modeling.Construction;

/// <summary>Expert sizes for a split of I neurons.</summary>
public static class ExpertSizes
{
    /// <summary>
    /// Balanced sizes: <paramref name="neurons"/> into <paramref name="experts"/> parts that differ by at most one,
    /// larger parts first (170 into 4 gives 43, 43, 42, 42).
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2103 when there are fewer neurons than experts.</exception>
    public static int[] Balanced(int neurons, int experts)
    {
        if (experts < 1 || neurons < experts)
        {
            throw new LlamaMoeException(
                ConstructionErrorCodes.ExpertSizesMismatch,
                $"Cannot split {neurons} neurons into {experts} non-empty experts.",
                key: "num_experts",
                advice: "Use at least one expert and no more experts than intermediate neurons.");
        }

        var baseSize = neurons / experts;
        var remainder = neurons % experts;
        return Enumerable.Range(0, experts).Select(e => baseSize + (e < remainder ? 1 : 0)).ToArray();
    }

    /// <summary>
    /// Returns <paramref name="sizes"/> when given (checking that they are positive and sum to <paramref name="neurons"/>),
    /// otherwise <see cref="Balanced"/>.
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2103 when explicit sizes do not fit.</exception>
    public static int[] Resolve(int neurons, int experts, IReadOnlyList<int>? sizes)
    {
        if (sizes is null)
        {
            return Balanced(neurons, experts);
        }

        if (sizes.Count != experts || sizes.Any(size => size <= 0) || sizes.Sum() != neurons)
        {
            throw new LlamaMoeException(
                ConstructionErrorCodes.ExpertSizesMismatch,
                $"The expert sizes [{string.Join(", ", sizes)}] must be {experts} positive numbers summing to {neurons}.",
                key: "expert_sizes",
                advice: "List one size per expert, summing to the MLP intermediate size (minus the residual expert).");
        }

        return sizes.ToArray();
    }
}
