using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>split-attention/gqa</c>.</summary>
public sealed class GqaAttentionSplitOptions : StepOptions
{
    /// <summary>Experts per KV group.</summary>
    [Option("Experts per KV (GQA) group: 1 gives one expert per group (v2), 2 or 4 give finer experts that each copy the group's K/V head.", Minimum = 1, Maximum = 64)]
    public int Split { get; set; } = 1;

    /// <summary>The attention-MoE layers; null for every layer.</summary>
    [Option("Layers whose attention becomes attention-MoE (ascending indices); default every layer (v2).")]
    public List<int>? Layers { get; set; }

    /// <summary>How the attention routers are initialised.</summary>
    [Option("Router initialisation: kaiming-uniform (v2: the nn.Linear default, seeded) or zero (uniform routing weights).")]
    public AttentionRouterInit RouterInit { get; set; } = AttentionRouterInit.KaimingUniform;

    /// <summary>A fixed seed; when absent it derives from the pipeline seed and the stage id.</summary>
    [Option("Seed of the router initialisation (layer i uses seed + i); when absent it derives from the pipeline seed.")]
    public int? Seed { get; set; }

    /// <summary>A dense model folder when no dense-model stage is needed.</summary>
    [Option("Dense model folder when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Layers is not null && (Layers.Count == 0 || Layers.Any(layer => layer < 0) || Layers.Zip(Layers.Skip(1)).Any(pair => pair.First >= pair.Second)))
        {
            yield return new OptionProblem("layers", "layers must be a non-empty, strictly ascending list of layer indices ≥ 0", "List each attention-MoE layer once, in order.");
        }
    }
}
