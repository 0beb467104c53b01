using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// Picks the tokenizer of a model directory: <c>tokenizer.model</c> as SentencePiece (protobuf) or as a tiktoken rank
/// file (text lines "base64 rank"); Llama 3 special tokens are taken from <c>tokenizer.json</c>'s added_tokens when present.
/// Without tokenizer.model, a byte-level BPE <c>tokenizer.json</c> (Llama 3) is loaded through <see cref="ByteLevelBpeConverter"/>.
/// </summary>
public static class TokenizerLoader
{
    /// <summary>Loads the tokenizer of <paramref name="directory"/>.</summary>
    public static ITextTokenizer Load(string directory)
    {
        var model = Path.Combine(directory, "tokenizer.model");
        var json = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(model) && File.Exists(json))
        {
            return ByteLevelBpeConverter.Load(json);
        }

        if (!File.Exists(model))
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMissing, "the model directory has no tokenizer.model", directory,
                advice: "Copy the model's tokenizer.model (SentencePiece or Llama 3 tiktoken) into the directory.");
        }

        return IsTiktokenRankFile(model)
            ? TiktokenTextTokenizer.Load(model, ReadAddedTokens(Path.Combine(directory, "tokenizer.json")))
            : SentencePieceTextTokenizer.Load(model);
    }

    /// <summary>True when the first line looks like "base64 rank".</summary>
    public static bool IsTiktokenRankFile(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[256];
        var read = stream.Read(buffer);
        var line = TiktokenTextTokenizer.Utf8.GetString(buffer, 0, read).Split('\n')[0].Trim();
        var parts = line.Split(' ');
        return parts.Length == 2 && int.TryParse(parts[1], out _) && parts[0].Length > 0 && parts[0].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=');
    }

    private static Dictionary<string, int>? ReadAddedTokens(string tokenizerJson)
    {
        if (!File.Exists(tokenizerJson))
        {
            return null;
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(tokenizerJson), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
            var added = root?["added_tokens"] as JsonArray;
            return added?.Where(t => t?["special"]?.GetValue<bool>() == true)
                .ToDictionary(t => t!["content"]!.GetValue<string>(), t => t!["id"]!.GetValue<int>(), StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, "tokenizer.json is malformed: " + ex.Message, tokenizerJson, inner: ex);
        }
    }
}
