using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// Reads a Hugging Face byte-level BPE <c>tokenizer.json</c> (Llama 3) as a tiktoken rank table: each vocabulary string is
/// mapped back to bytes through the GPT-2 byte-to-unicode table and its id is used as its rank, which holds for Llama 3,
/// whose tokenizer.json was converted from tiktoken ranks.
/// </summary>
public static class ByteLevelBpeConverter
{
    /// <summary>Loads <paramref name="tokenizerJson"/> as a <see cref="TiktokenTextTokenizer"/>.</summary>
    public static TiktokenTextTokenizer Load(string tokenizerJson)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(tokenizerJson), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            throw Malformed(tokenizerJson, ex.Message, ex);
        }

        if (root["model"]?["type"]?.GetValue<string>() != "BPE" || root["model"]?["vocab"] is not JsonObject vocab)
        {
            throw Malformed(tokenizerJson, "only byte-level BPE tokenizer.json files (Llama 3) are supported");
        }

        var specials = (root["added_tokens"] as JsonArray ?? [])
            .Where(t => t?["special"]?.GetValue<bool>() == true)
            .ToDictionary(t => t!["content"]!.GetValue<string>(), t => t!["id"]!.GetValue<int>(), StringComparer.Ordinal);
        var decode = UnicodeToByte();
        var ranked = new SortedDictionary<int, byte[]>();
        foreach (var (token, idNode) in vocab)
        {
            var id = idNode!.GetValue<int>();
            if (specials.ContainsKey(token))
            {
                continue;
            }

            var bytes = new byte[token.Length];
            for (var i = 0; i < token.Length; i++)
            {
                bytes[i] = decode.TryGetValue(token[i], out var b) ? b : throw Malformed(tokenizerJson, $"token '{token}' is not byte-level encoded");
            }

            ranked[id] = bytes;
        }

        if (ranked.Count == 0 || ranked.Keys.Last() != ranked.Count - 1)
        {
            throw Malformed(tokenizerJson, "the non-special vocabulary ids are not contiguous from 0");
        }

        var rankFile = TiktokenTextTokenizer.ToRankFile(ranked.Values);
        using var stream = new MemoryStream(Encoding.ASCII.GetBytes(rankFile));
        return TiktokenTextTokenizer.Load(stream, ranked.Count, specials, tokenizerJson);
    }

    /// <summary>The inverse of GPT-2's byte-to-unicode table.</summary>
    public static IReadOnlyDictionary<char, byte> UnicodeToByte()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        var map = new Dictionary<char, byte>();
        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            map[printable.Contains(b) ? (char)b : (char)(256 + next++)] = (byte)b;
        }

        return map;
    }

    private static LlamaMoeException Malformed(string path, string message, Exception? inner = null) =>
        new(FormatErrorCodes.TokenizerMalformed, "unsupported tokenizer.json: " + message, path, inner: inner);
}
