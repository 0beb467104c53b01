using System.Text;
using System.Text.RegularExpressions;
using LlamaMoe.Modeling.Formats;
using Microsoft.ML.Tokenizers;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// A Llama 3 tokenizer: a tiktoken base64+rank file (Meta's <c>tokenizer.model</c>) with the Llama 3 pre-tokenizer regex
/// and the 256 Llama 3 special tokens (<c>&lt;|begin_of_text|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, ...) after the ranks.
/// </summary>
public sealed partial class TiktokenTextTokenizer : ITextTokenizer
{
    /// <summary>Number of Llama 3 special tokens following the base vocabulary.</summary>
    public const int SpecialTokenCount = 256;

    private readonly TiktokenTokenizer tokenizer;
    private readonly IReadOnlyDictionary<string, int> specials;
    private readonly HashSet<int> specialIds;

    private TiktokenTextTokenizer(TiktokenTokenizer tokenizer, IReadOnlyDictionary<string, int> specials, int vocabSize)
    {
        this.tokenizer = tokenizer;
        this.specials = specials;
        specialIds = [.. specials.Values];
        VocabSize = vocabSize;
    }

    /// <summary>The Llama 3 special-token names in id order (Llama 3.1 naming).</summary>
    public static IReadOnlyList<string> Llama3SpecialTokenNames(int count = SpecialTokenCount)
    {
        var names = new List<string>
        {
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
        };
        for (var i = 2; names.Count < count; i++)
        {
            names.Add($"<|reserved_special_token_{i}|>");
        }

        return names.Take(count).ToList();
    }

    /// <summary>Loads a tiktoken rank file; special tokens follow the ranks unless <paramref name="specialTokens"/> is given.</summary>
    public static TiktokenTextTokenizer Load(string path, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, File.ReadLines(path).Count(l => l.Trim().Length > 0), specialTokens, path);
    }

    /// <summary>Loads a tiktoken rank stream holding <paramref name="baseCount"/> ranks.</summary>
    public static TiktokenTextTokenizer Load(Stream stream, int baseCount, IReadOnlyDictionary<string, int>? specialTokens, string path)
    {
        try
        {
            var specials = specialTokens ?? Llama3SpecialTokenNames().Select((n, i) => (n, i)).ToDictionary(p => p.n, p => baseCount + p.i, StringComparer.Ordinal);
            var preTokenizer = new RegexPreTokenizer(Llama3Pattern(), specials.ToDictionary(p => p.Key, p => p.Value));
            var tokenizer = TiktokenTokenizer.Create(stream, preTokenizer, normalizer: null, specialTokens: specials.ToDictionary(p => p.Key, p => p.Value));
            return new TiktokenTextTokenizer(tokenizer, specials, Math.Max(baseCount, specials.Values.DefaultIfEmpty(0).Max() + 1));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, "not a tiktoken rank file: " + ex.Message, path, inner: ex);
        }
    }

    /// <inheritdoc />
    public string Kind => "tiktoken";

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public int? BosId => TokenToId("<|begin_of_text|>");

    /// <inheritdoc />
    public int? EosId => TokenToId("<|end_of_text|>");

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text, bool addBos = false)
    {
        // Plain text: special-token strings inside it are encoded as ordinary text, never as control tokens.
        var ids = new List<int>();
        if (addBos && BosId is { } bos)
        {
            ids.Add(bos);
        }

        foreach (var piece in SplitAroundSpecials(text))
        {
            ids.AddRange(tokenizer.EncodeToIds(piece, considerPreTokenization: true, considerNormalization: false));
        }

        return ids;
    }

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) =>
        tokenizer.Decode(skipSpecialTokens ? ids.Where(i => !specialIds.Contains(i)) : ids) ?? string.Empty;

    /// <inheritdoc />
    public int? TokenToId(string token)
    {
        if (specials.TryGetValue(token, out var id))
        {
            return id;
        }

        var ids = tokenizer.EncodeToIds(token, considerPreTokenization: false, considerNormalization: false);
        return ids.Count == 1 ? ids[0] : null;
    }

    private IEnumerable<string> SplitAroundSpecials(string text)
    {
        // Break every special-token string so the underlying tokenizer cannot match it as a special token.
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '<' && i + 1 < text.Length && text[i + 1] == '|' && specials.Keys.Any(s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0))
            {
                if (i > start)
                {
                    yield return text[start..i];
                }

                yield return "<";
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    [GeneratedRegex(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    private static partial Regex Llama3Pattern();

    /// <summary>Writes a tiktoken rank file (base64 token, space, rank per line) for <paramref name="tokens"/> in rank order.</summary>
    public static string ToRankFile(IEnumerable<byte[]> tokens) =>
        string.Concat(tokens.Select((t, i) => Convert.ToBase64String(t) + " " + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n"));

    internal static readonly Encoding Utf8 = new UTF8Encoding(false);
}
