using System.Text.Json;
using System.Text.Json.Serialization;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// How an MoE model was constructed, as <c>build-moe</c> knows it: the splitter and router initialiser (their plugin names),
/// the pipeline seed and the dense base. Stored as <see cref="FileName"/> beside config.json and copied along with the
/// tokenizer files by every step that saves a model (<see cref="ModelDirectory.CopyCompanionFiles"/>), so
/// <c>export</c> can write it into the model card. The expert count, top-k, residual expert and router of the recipe
/// are read from config.json, which is authoritative.
/// </summary>
/// <param name="Split">The splitter plugin, such as <c>split-mlp/gradient</c>.</param>
/// <param name="RouterInit">The router initialiser plugin, such as <c>router-init/kmeans</c>.</param>
/// <param name="Seed">The pipeline seed.</param>
/// <param name="BaseModel">The dense base: a Hugging Face id when config.json's <c>_name_or_path</c> holds one; otherwise null.</param>
/// <param name="AttentionSplit">The attention splitter plugin (v2 attention experts), or null.</param>
public sealed record ConstructionRecipe(
    [property: JsonPropertyName("split")] string? Split,
    [property: JsonPropertyName("router_init")] string? RouterInit,
    [property: JsonPropertyName("seed")] int? Seed,
    [property: JsonPropertyName("base_model")] string? BaseModel,
    [property: JsonPropertyName("attention_split")] string? AttentionSplit = null)
{
    /// <summary>The file name in a model directory.</summary>
    public const string FileName = "llamamoe_recipe.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Writes the recipe into <paramref name="modelDirectory"/> (atomically).</summary>
    public void Write(string modelDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(modelDirectory, FileName), JsonSerializer.Serialize(this, JsonOptions) + "\n");

    /// <summary>The recipe of <paramref name="modelDirectory"/>, or null when it has none or it cannot be read (the card then omits it).</summary>
    public static ConstructionRecipe? TryRead(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ConstructionRecipe>(File.ReadAllText(path), JsonOptions) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The Hugging Face id of the dense model in <paramref name="denseDirectory"/>: config.json's <c>_name_or_path</c> when it
    /// looks like <c>org/name</c> and is not a local path; otherwise null.
    /// </summary>
    public static string? HuggingFaceIdOf(string denseDirectory)
    {
        var path = Path.Combine(denseDirectory, ModelDirectory.ConfigFileName);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.TryGetProperty("_name_or_path", out var name) && name.ValueKind == JsonValueKind.String
                && System.Text.RegularExpressions.Regex.IsMatch(name.GetString()!, @"^[A-Za-z0-9][\w.-]*/[\w.-]+$") && !Path.Exists(name.GetString())
                ? name.GetString()
                : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
