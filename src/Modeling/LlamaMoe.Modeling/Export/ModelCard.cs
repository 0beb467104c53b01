using System.Globalization;
using System.Text;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;

namespace LlamaMoe.Modeling.Export;

/// <summary>Total and active (per token) parameter counts of an MoE checkpoint.</summary>
/// <param name="Total">Every parameter of the checkpoint.</param>
/// <param name="Active">The parameters one token uses: all but the routed MLP experts a token skips (with unequal
/// experts, the top-k largest are counted, so this is an upper bound).</param>
public sealed record ParameterCounts(long Total, long Active)
{
    /// <summary>Counts the parameters of <paramref name="checkpoint"/> from its tensor shapes (no data is read).</summary>
    public static ParameterCounts Of(MoeCheckpoint checkpoint)
    {
        static long Count(StreamedTensor t) => t.Shape.Aggregate(1L, (a, b) => a * b);
        var total = checkpoint.Entries.Sum(Count);
        var config = checkpoint.Config;
        long skipped = 0;
        foreach (var layer in config.MoeLayers)
        {
            var perExpert = Enumerable.Range(0, config.ExpertCount)
                .Select(e => checkpoint.Entries.Where(t => t.Name.StartsWith($"{MoeTensorNames.Block(layer)}.experts.{e}.", StringComparison.Ordinal)).Sum(Count))
                .OrderDescending().ToList();
            skipped += perExpert.Skip(config.TopK).Sum();
        }

        return new ParameterCounts(total, total - skipped);
    }
}

/// <summary>
/// The Hugging Face model card (<c>README.md</c>) of an exported MoE model: YAML front matter (library_name, tags,
/// base_model when known), the construction method (LLaMA-MoE v1 or v2), the recipe (splitter, experts, top-k, residual
/// expert, router initialisation, seed), total and active parameters, and the evaluation table when there is one.
/// </summary>
public static class ModelCard
{
    /// <summary>The card's file name.</summary>
    public const string FileName = "README.md";

    /// <summary>Writes the card of <paramref name="checkpoint"/> (exported as <paramref name="format"/>) into <paramref name="directory"/>.</summary>
    /// <param name="directory">The exported model folder.</param>
    /// <param name="checkpoint">The exported checkpoint.</param>
    /// <param name="format">The export format (<c>native</c>, <c>mixtral</c>, <c>llama-moe-v2</c>).</param>
    /// <param name="recipe">The construction recipe, when the model carries one.</param>
    /// <param name="evaluation">The evaluation scores of this model, when the pipeline evaluated it.</param>
    public static void Write(string directory, MoeCheckpoint checkpoint, string format, ConstructionRecipe? recipe, IReadOnlyList<TaskScore>? evaluation) =>
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), Render(checkpoint.Config, ParameterCounts.Of(checkpoint), format, recipe, evaluation));

    /// <summary>The card text.</summary>
    public static string Render(MoeConfig config, ParameterCounts parameters, string format, ConstructionRecipe? recipe, IReadOnlyList<TaskScore>? evaluation)
    {
        var c = CultureInfo.InvariantCulture;
        var v2 = config.Router == MoeRouterSpec.V2;
        var method = v2 ? "LLaMA-MoE v2" : "LLaMA-MoE v1";
        var card = new StringBuilder("---\n");
        if (format == "mixtral")
        {
            card.Append("library_name: transformers\npipeline_tag: text-generation\n");
        }

        card.Append("tags:\n- llama-moe\n- mixture-of-experts\n- moe\n").Append(c, $"- {(v2 ? "llama-moe-v2" : "llama-moe-v1")}\n");
        if (recipe?.BaseModel is { } baseModel)
        {
            card.Append(c, $"base_model: {baseModel}\n");
        }

        card.Append("---\n\n").Append(c, $"# {method} mixture-of-experts model\n\n");
        card.Append(c, $"A dense LLaMA{(recipe?.BaseModel is { } b ? $" ([{b}](https://huggingface.co/{b}))" : string.Empty)} converted into a mixture of experts with the {method} construction: ");
        card.Append(v2
            ? "the MLP neurons are partitioned into experts and a linear router picks the top-k experts per token (softmax routing weights renormalised over the chosen experts); "
            : "the MLP neurons are partitioned into experts behind a noisy top-k gate; ");
        card.Append(c, $"exported by llama-moe in the `{format}` format.\n\n");

        card.Append("## Parameters\n\n| | parameters |\n|---|---:|\n");
        card.Append(c, $"| total | {parameters.Total:N0} |\n| active per token | {parameters.Active:N0} |\n\n");

        card.Append("## Construction recipe\n\n| setting | value |\n|---|---|\n");
        card.Append(c, $"| method | {method} |\n");
        card.Append(c, $"| split | {recipe?.Split ?? "unknown"} |\n");
        card.Append(c, $"| experts | {config.ExpertCount} per MoE layer ({string.Join(", ", config.ExpertSizes.SelectMany(s => s).Distinct().Order())} neurons each) |\n");
        card.Append(c, $"| top-k | {config.TopK} |\n");
        card.Append(c, $"| MoE layers | {config.MoeLayers.Count} of {config.Dense.NumHiddenLayers} ({string.Join(", ", config.MoeLayers)}) |\n");
        card.Append(c, $"| residual (shared) expert | {(config.ResidualSize > 0 ? $"{config.ResidualSize} neurons, always active" : "none")} |\n");
        card.Append(c, $"| router | {MoeRouterSpec.NetworkName(config.Router.Network)}, {MoeRouterSpec.WeightsName(config.Router.Weights)}{(config.Router.Noisy ? ", noisy" : string.Empty)} |\n");
        card.Append(c, $"| router initialisation | {recipe?.RouterInit ?? "unknown"} |\n");
        card.Append(c, $"| output scale | {string.Join(", ", config.ScaleFactors.Distinct().Select(s => s.ToString("0.###", c)))} |\n");
        if (config.AttentionMoe is not null)
        {
            card.Append(c, $"| attention experts | yes{(recipe?.AttentionSplit is { } split ? $" ({split})" : string.Empty)} |\n");
        }

        card.Append(c, $"| seed | {(recipe?.Seed is { } seed ? seed.ToString(c) : "unknown")} |\n");
        if (evaluation is { Count: > 0 })
        {
            static string F(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("F4", CultureInfo.InvariantCulture) : "–";
            card.Append("\n## Evaluation\n\n| task | metric | score | dense baseline | n |\n|---|---|---:|---:|---:|\n");
            foreach (var s in evaluation)
            {
                card.Append(c, $"| {s.Task} | {s.Metric} | {F(s.Value)} | {F(s.Baseline)} | {s.Count} |\n");
            }
        }

        return card.ToString();
    }
}
