using System.Text;
using LlamaMoe.Modeling.Formats.SentencePiece;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// sentencepiece's <c>Normalizer::Normalize</c> for models without a precompiled character map (the <c>identity</c>
/// rule of Llama 1/2, stories260K and our trained tokenizers): drops leading spaces and collapses runs of spaces when
/// <c>remove_extra_whitespaces</c>, adds the dummy-prefix space, escapes spaces as U+2581 and drops trailing ones.
/// Only U+0020 counts as a space (newlines and tabs are ordinary characters under the identity rule); user-defined
/// pieces are copied through unnormalized; unpaired surrogates become U+FFFD as malformed UTF-8 does there.
/// </summary>
internal sealed class SentencePieceNormalizer
{
    /// <summary>The escaped space, U+2581 LOWER ONE EIGHTH BLOCK.</summary>
    public const string SpaceSymbol = "\u2581";

    private readonly SentencePieceModel model;
    private readonly UserDefinedMatcher userDefined;

    /// <summary>Creates the normalizer of <paramref name="model"/>.</summary>
    public SentencePieceNormalizer(SentencePieceModel model, UserDefinedMatcher userDefined)
    {
        this.model = model;
        this.userDefined = userDefined;
    }

    /// <summary>The normalized form of <paramref name="input"/> that the BPE model segments.</summary>
    public string Normalize(string input)
    {
        var position = 0;
        if (model.RemoveExtraWhitespaces)
        {
            while (position < input.Length && input[position] == ' ' && userDefined.Match(input, position) == 0)
            {
                position++;
            }
        }

        if (position == input.Length)
        {
            return string.Empty;
        }

        var space = model.EscapeWhitespaces ? SpaceSymbol : " ";
        var normalized = new StringBuilder(input.Length + 1);
        if (!model.TreatWhitespaceAsSuffix && model.AddDummyPrefix)
        {
            normalized.Append(space);
        }

        var isPreviousSpace = model.RemoveExtraWhitespaces;
        while (position < input.Length)
        {
            var (piece, consumed) = NextPrefix(input, position);
            position += consumed;
            var start = 0;
            while (isPreviousSpace && start < piece.Length && piece[start] == ' ')
            {
                start++;
            }

            if (start < piece.Length)
            {
                for (var i = start; i < piece.Length; i++)
                {
                    if (model.EscapeWhitespaces && piece[i] == ' ')
                    {
                        normalized.Append(SpaceSymbol);
                    }
                    else
                    {
                        normalized.Append(piece[i]);
                    }
                }

                isPreviousSpace = piece[^1] == ' ';
            }

            if (!model.RemoveExtraWhitespaces)
            {
                isPreviousSpace = false;
            }
        }

        if (model.RemoveExtraWhitespaces)
        {
            while (normalized.Length >= space.Length && normalized.ToString(normalized.Length - space.Length, space.Length) == space)
            {
                normalized.Length -= space.Length;
            }
        }

        if (model.TreatWhitespaceAsSuffix && model.AddDummyPrefix)
        {
            normalized.Append(space);
        }

        return normalized.ToString();
    }

    private (string Piece, int Consumed) NextPrefix(string input, int position)
    {
        var matched = userDefined.Match(input, position);
        if (matched > 0)
        {
            return (input.Substring(position, matched), matched);
        }

        if (char.IsHighSurrogate(input[position]) && position + 1 < input.Length && char.IsLowSurrogate(input[position + 1]))
        {
            return (input.Substring(position, 2), 2);
        }

        return char.IsSurrogate(input[position]) ? ("\uFFFD", 1) : (input[position].ToString(), 1);
    }
}

/// <summary>Longest-prefix matching of USER_DEFINED pieces (sentencepiece's <c>PrefixMatcher</c>).</summary>
internal sealed class UserDefinedMatcher
{
    private readonly string[] symbols;

    /// <summary>Creates a matcher over <paramref name="symbols"/> (usually none).</summary>
    public UserDefinedMatcher(IEnumerable<string> symbols) =>
        this.symbols = symbols.Where(s => s.Length > 0).OrderByDescending(s => s.Length).ToArray();

    /// <summary>The length of the longest user-defined piece starting at <paramref name="position"/>, or 0.</summary>
    public int Match(string text, int position)
    {
        foreach (var symbol in symbols)
        {
            if (string.CompareOrdinal(text, position, symbol, 0, symbol.Length) == 0 && position + symbol.Length <= text.Length)
            {
                return symbol.Length;
            }
        }

        return 0;
    }
}
