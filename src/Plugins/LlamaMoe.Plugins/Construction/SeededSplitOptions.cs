using LlamaMoe.Construction;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of splitters that draw random numbers.</summary>
public class SeededSplitOptions : SizedSplitOptions
{
    /// <summary>A fixed seed; when absent the pipeline seed. Layer l uses <see cref="ConstructionSeed.ForLayer"/>(seed, l).</summary>
    [Option("Seed of the split (layer l uses seed × 1000003 + l, as convert --seed does); the pipeline seed when absent.")]
    public int? Seed { get; set; }
}
