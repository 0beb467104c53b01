using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.SentencePiece;
using Microsoft.ML.Tokenizers;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// A SentencePiece BPE tokenizer (Llama 1/2, stories260K tok512.model, the tokenizers <c>model/init</c> trains) that
/// encodes and decodes exactly as <c>google/sentencepiece</c> (<see cref="SentencePieceBpeCodec"/>): unknown characters,
/// <c>add_dummy_prefix</c>, <c>remove_extra_whitespaces</c> and <c>byte_fallback</c> as the model proto says. A model
/// with a precompiled normalization map (<c>nmt_nfkc</c>) goes through Microsoft.ML.Tokenizers instead.
/// </summary>
public sealed class SentencePieceTextTokenizer : ITextTokenizer
{
    private readonly SentencePieceBpeCodec? codec;
    private readonly LlamaTokenizer? tokenizer;
    private readonly HashSet<int> specialIds;
    private readonly int vocabSize;

    private SentencePieceTextTokenizer(SentencePieceModel model, LlamaTokenizer? tokenizer)
    {
        this.tokenizer = tokenizer;
        codec = tokenizer is null ? new SentencePieceBpeCodec(model) : null;
        BosId = model.BosId >= 0 ? model.BosId : null;
        EosId = model.EosId >= 0 ? model.EosId : null;
        vocabSize = model.Pieces.Count;
        specialIds = tokenizer is null ? [] : [tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, tokenizer.UnknownId];
    }

    /// <summary>Loads a <c>tokenizer.model</c> file.</summary>
    public static SentencePieceTextTokenizer Load(string path)
    {
        // Our bounds-checked reader first: it refuses truncated or inconsistent files that the protobuf parser would accept.
        var model = SentencePieceModelReader.Read(path);
        if (model.ModelType is { } type && type != 2)
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, $"not a SentencePiece BPE model: trainer_spec.model_type is {type} (2 is BPE)", path,
                advice: "Use a BPE tokenizer.model (Llama 1/2 style); unigram models are not supported.");
        }

        if (!model.HasPrecompiledCharsmap)
        {
            return new SentencePieceTextTokenizer(model, null);
        }

        using var stream = File.OpenRead(path);
        try
        {
            return new SentencePieceTextTokenizer(model, LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception ex) when (ex is not LlamaMoeException) // includes protobuf's InvalidProtocolBufferException, an IOException
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, "not a SentencePiece BPE model: " + ex.Message, path, inner: ex);
        }
    }

    /// <inheritdoc />
    public string Kind => "sentencepiece";

    /// <inheritdoc />
    public int VocabSize => vocabSize;

    /// <inheritdoc />
    public int? BosId { get; }

    /// <inheritdoc />
    public int? EosId { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text, bool addBos = false)
    {
        if (codec is not null)
        {
            var encoded = codec.Encode(text);
            if (addBos && BosId is { } bos)
            {
                encoded.Insert(0, bos);
            }

            return encoded;
        }

        return EncodeWithLibrary(tokenizer!, text, addBos);
    }

    private static IReadOnlyList<int> EncodeWithLibrary(LlamaTokenizer tokenizer, string text, bool addBos)
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
    /// <remarks>As sentencepiece decodes: <c>&lt;unk&gt;</c> becomes the model's unk_surface (" \u2047 " by default), control
    /// pieces (BOS, EOS) vanish, or are written as their text when <paramref name="skipSpecialTokens"/> is false.</remarks>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) =>
        codec is not null
            ? codec.Decode(ids, skipControl: skipSpecialTokens)
            : tokenizer!.Decode(skipSpecialTokens ? ids.Where(i => !specialIds.Contains(i)) : ids) ?? string.Empty;

    /// <inheritdoc />
    public int? TokenToId(string token) =>
        codec is not null ? codec.TryGetId(token) : tokenizer!.Vocabulary.TryGetValue(token, out var id) ? id : null;
}
