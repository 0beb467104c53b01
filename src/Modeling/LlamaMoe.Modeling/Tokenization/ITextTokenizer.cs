namespace LlamaMoe.Modeling.Tokenization;

/// <summary>The tokenizer operations the models, chat templates and evaluators need, over any tokenizer family.</summary>
public interface ITextTokenizer
{
    /// <summary>The tokenizer family: <c>sentencepiece</c> or <c>tiktoken</c>.</summary>
    string Kind { get; }

    /// <summary>Number of token ids (including special tokens).</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, if any.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, if any.</summary>
    int? EosId { get; }

    /// <summary>Encodes plain text (special-token strings are not interpreted), optionally with BOS first.</summary>
    IReadOnlyList<int> Encode(string text, bool addBos = false);

    /// <summary>Decodes ids to text; special tokens are skipped when <paramref name="skipSpecialTokens"/>.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);

    /// <summary>The id of a special (or any exact) token string, or null.</summary>
    int? TokenToId(string token);
}
