using LlamaMoe.Construction;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options every <c>router-init/*</c> step has.</summary>
public class RouterInitOptions : StepOptions
{
    /// <summary>Routed experts per layer (rows of every router).</summary>
    [Option("Routed experts per layer: the rows of every router matrix.", Required = true, Minimum = 1, Maximum = 1024)]
    public int Experts { get; set; }

    /// <summary>A fixed seed; when absent the pipeline seed. Layer l uses <see cref="ConstructionSeed.ForLayer"/>(seed, l).</summary>
    [Option("Seed of the initialisation (layer l uses seed × 1000003 + l, as convert --seed does); the pipeline seed when absent.")]
    public int? Seed { get; set; }

    /// <summary>The stage's seed: the option, or the pipeline seed.</summary>
    public int ResolveSeed(IStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Seed ?? ((ISeedSource)context.Services.GetService(typeof(ISeedSource))!).Seed;
    }
}
