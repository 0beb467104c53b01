using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of splitters that draw random numbers.</summary>
public class SeededSplitOptions : SizedSplitOptions
{
    /// <summary>A fixed seed; when absent each layer's seed is derived from the pipeline seed, the stage id and the layer.</summary>
    [Option("Seed of the split; each layer uses seed + layer index. When absent it derives from the pipeline seed.")]
    public int? Seed { get; set; }

    /// <summary>The seed of one layer: the option's seed combined with the layer index, or the engine-derived seed.</summary>
    public long LayerSeed(int layer, int derivedSeed) => Seed is { } seed ? ((long)seed * 1_000_003L) + layer : derivedSeed;
}
