namespace LlamaMoe.Construction;

/// <summary>
/// The one seed rule of MoE construction: every split method and router initialisation seeds layer <c>l</c> with
/// <see cref="ForLayer"/>(seed, l), whichever way in (<c>llama-moe convert --seed</c>, a step's <c>seed</c> option, or
/// the pipeline seed when a step has none).
/// </summary>
public static class ConstructionSeed
{
    /// <summary>The multiplier that keeps (seed, layer) pairs apart (seed 1 layer 0 differs from seed 0 layer 1).</summary>
    public const int LayerStride = 1_000_003;

    /// <summary>The seed of one layer: <c>seed × 1 000 003 + layer</c> (wrapping in 32 bits).</summary>
    /// <param name="seed">The construction seed (the <c>--seed</c> / <c>seed</c> option, else the pipeline seed).</param>
    /// <param name="layer">The decoder layer index.</param>
    public static int ForLayer(int seed, int layer) => unchecked((seed * LayerStride) + layer);
}
