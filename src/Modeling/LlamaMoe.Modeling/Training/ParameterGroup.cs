namespace LlamaMoe.Modeling.Training;

/// <summary>Kinds of parameters, used to choose what trains and what gets weight decay.</summary>
[Flags]
public enum ParameterGroup
{
    /// <summary>No group.</summary>
    None = 0,

    /// <summary>Router (gate) weights of MLP and attention MoE blocks: names containing <c>.gate.</c>, ending in <c>.gate</c> or containing <c>router</c>.</summary>
    Router = 1,

    /// <summary>Feed-forward weights: experts, residual expert and dense MLP (<c>mlp</c>, <c>block_sparse_moe</c>, <c>experts</c>).</summary>
    Experts = 2,

    /// <summary>Attention projections (<c>self_attn</c>, <c>attention</c>) except their routers.</summary>
    Attention = 4,

    /// <summary>Token embedding and output head (<c>embed</c>, <c>lm_head</c>, <c>wte</c>, <c>output</c>).</summary>
    Embeddings = 8,

    /// <summary>Normalisation weights (names containing <c>norm</c>).</summary>
    Norms = 16,

    /// <summary>Anything else.</summary>
    Other = 32,

    /// <summary>Every group.</summary>
    All = Router | Experts | Attention | Embeddings | Norms | Other,
}
