using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options every <c>router-init/*</c> step has.</summary>
public class RouterInitOptions : StepOptions
{
    /// <summary>Routed experts per layer (rows of every router).</summary>
    [Option("Routed experts per layer: the rows of every router matrix.", Required = true, Minimum = 1, Maximum = 1024)]
    public int Experts { get; set; }

    /// <summary>A fixed seed; when absent it derives from the pipeline seed and the stage id.</summary>
    [Option("Seed of the initialisation; when absent it derives from the pipeline seed.")]
    public int? Seed { get; set; }

    /// <summary>The stage's seed: the option, or one derived from the pipeline seed and the stage id.</summary>
    public long ResolveSeed(IStepContext context) =>
        Seed ?? ((ISeedSource)context.Services.GetService(typeof(ISeedSource))!).Derive(context.StageId + "/router");
}
