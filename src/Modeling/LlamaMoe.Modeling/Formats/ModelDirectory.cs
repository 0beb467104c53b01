using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats;

/// <summary>
/// The layout of a Hugging Face model directory: config.json, generation_config.json, safetensors weights and
/// tokenizer files. Saving copies the tokenizer files along.
/// </summary>
public static class ModelDirectory
{
    /// <summary>config.json.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>generation_config.json.</summary>
    public const string GenerationConfigFileName = "generation_config.json";

    /// <summary>The <c>model_type</c> of a directory's config.json (LMOE2001/2002 when unreadable).</summary>
    public static string ModelTypeOf(string directory)
    {
        var path = Path.Combine(directory, ConfigFileName);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 32 }) as JsonObject;
            return root?["model_type"] is JsonValue v && v.TryGetValue<string>(out var type) ? type : "llama";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LlamaMoeException(ConfigErrorCodes.Missing, "cannot read the model config: " + ex.Message, path, advice: "Point to a model directory that holds config.json.", inner: ex);
        }
        catch (JsonException ex)
        {
            throw new LlamaMoeException(ConfigErrorCodes.Malformed, "config.json is not valid JSON (or has a key twice): " + ex.Message, path, advice: "Fix the JSON; every key must appear once.", inner: ex);
        }
    }

    /// <summary>Tokenizer and chat files copied along with a model.</summary>
    public static IReadOnlyList<string> TokenizerFileNames { get; } =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"];

    /// <summary>Writes the weights (sharded when larger than <paramref name="maxShardBytes"/>).</summary>
    public static IReadOnlyList<string> SaveWeights(string directory, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long maxShardBytes) =>
        StreamingCheckpointWriter.Write(directory, tensors, maxShardBytes);

    /// <summary>
    /// Copies tokenizer files, generation_config.json and the construction recipe (<see cref="Export.ConstructionRecipe.FileName"/>)
    /// from <paramref name="source"/> into <paramref name="destination"/>.
    /// </summary>
    public static IReadOnlyList<string> CopyCompanionFiles(string source, string destination)
    {
        var copied = new List<string>();
        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
        {
            return copied;
        }

        foreach (var name in TokenizerFileNames.Append(GenerationConfigFileName).Append(Export.ConstructionRecipe.FileName))
        {
            var from = Path.Combine(source, name);
            if (File.Exists(from))
            {
                AtomicFile.Copy(from, Path.Combine(destination, name));
                copied.Add(name);
            }
        }

        return copied;
    }

    /// <summary>Writes generation_config.json with the given special tokens.</summary>
    public static void WriteGenerationConfig(string directory, int? bosTokenId, IReadOnlyList<int> eosTokenIds)
    {
        var json = new JsonObject
        {
            ["bos_token_id"] = bosTokenId,
            ["eos_token_id"] = eosTokenIds.Count == 1 ? JsonValue.Create(eosTokenIds[0]) : new JsonArray(eosTokenIds.Select(i => (JsonNode?)i).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, GenerationConfigFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
