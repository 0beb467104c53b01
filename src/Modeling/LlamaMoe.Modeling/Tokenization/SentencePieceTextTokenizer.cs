using LlamaMoe.Modeling.Checkpoints;
using Microsoft.ML.Tokenizers;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>A SentencePiece BPE tokenizer (Llama 1/2, stories260K tok512.model) through Microsoft.ML.Tokenizers.</summary>
public sealed class SentencePieceTextTokenizer : ITextTokenizer
{
    private readonly LlamaTokenizer tokenizer;
    private readonly HashSet<int> specialIds;

    private SentencePieceTextTokenizer(LlamaTokenizer tokenizer)
    {
        this.tokenizer = tokenizer;
        specialIds = [tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, tokenizer.UnknownId];
    }

    /// <summary>Loads a <c>tokenizer.model</c> file.</summary>
    public static SentencePieceTextTokenizer Load(string path)
    {
        // Our bounds-checked reader first: it refuses truncated or inconsistent files that the protobuf parser would accept.
        Import.SentencePieceModelReader.Read(path);
        using var stream = File.OpenRead(path);
        try
        {
            return new SentencePieceTextTokenizer(LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception ex) when (ex is not LlamaMoeException) // includes protobuf's InvalidProtocolBufferException, an IOException
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, "not a SentencePiece BPE model: " + ex.Message, path, inner: ex);
        }
    }

    /// <inheritdoc />
    public string Kind => "sentencepiece";

    /// <inheritdoc />
    public int VocabSize => tokenizer.Vocabulary.Count;

    /// <inheritdoc />
    public int? BosId => tokenizer.BeginningOfSentenceId;

    /// <inheritdoc />
    public int? EosId => tokenizer.EndOfSentenceId;

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text, bool addBos = false)
    {
        // BOS is added here: the library returns no ids at all (not even BOS) for empty text.
        var ids = text.Length == 0 ? [] : tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: false, considerNormalization: true);
        if (ids.Count == 0 && text.Length == 1)
        {
            // Microsoft.ML.Tokenizers 2.0.1 returns nothing for one-character input; normalise by hand (dummy prefix, escaped space).
            var normalized = (tokenizer.AddDummyPrefix ? "\u2581" : string.Empty) + (text == " " ? "\u2581" : text);
            ids = tokenizer.EncodeToIds(normalized, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: false, considerNormalization: false);
        }

        return addBos ? [tokenizer.BeginningOfSentenceId, .. ids] : ids.ToArray();
    }

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) =>
        tokenizer.Decode(skipSpecialTokens ? ids.Where(i => !specialIds.Contains(i)) : ids) ?? string.Empty;

    /// <inheritdoc />
    public int? TokenToId(string token) => tokenizer.Vocabulary.TryGetValue(token, out var id) ? id : null;
}
