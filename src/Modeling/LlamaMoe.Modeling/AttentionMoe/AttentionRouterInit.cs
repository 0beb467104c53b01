namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>How an attention router is initialised at conversion (v2 has no clustering init for attention routers).</summary>
public enum AttentionRouterInit
{
    /// <summary>PyTorch's Linear default, U(−1/√H, 1/√H) (v2's <c>from_vanilla_attention</c>), drawn from a seeded generator.</summary>
    KaimingUniform,

    /// <summary>All zeros: uniform softmax weights; with top-k = n and scale n the block equals the dense attention.</summary>
    Zero,
}
