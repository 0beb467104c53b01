using System.Text;
using LlamaMoe.Modeling.Formats.SentencePiece;

namespace LlamaMoe.Modeling.Tokenization;

/// <summary>
/// SentencePiece BPE encoding and decoding as <c>google/sentencepiece</c> does it (bpe_model.cc, sentencepiece_processor.cc):
/// characters are merged best-score-first (ties: leftmost pair); a character outside the vocabulary becomes
/// <c>&lt;unk&gt;</c>, with a run of adjacent unknown characters merged into one <c>&lt;unk&gt;</c>, or, with
/// <c>byte_fallback</c>, its UTF-8 byte pieces. Decoding drops control pieces, writes <c>unk_surface</c> for
/// <c>&lt;unk&gt;</c>, joins byte pieces as UTF-8 (U+FFFD per invalid byte), and strips the dummy-prefix space.
/// </summary>
internal sealed class SentencePieceBpeCodec
{
    private const int TypeUnknown = 2;
    private const int TypeControl = 3;
    private const int TypeUserDefined = 4;
    private const int TypeUnused = 5;
    private const int TypeByte = 6;

    private readonly SentencePieceModel model;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> normalPieces;
    private readonly Dictionary<string, int> reservedPieces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> reservedLookup;
    private readonly int[] byteIds = Enumerable.Repeat(-1, 256).ToArray();
    private readonly UserDefinedMatcher userDefined;
    private readonly SentencePieceNormalizer normalizer;
    private readonly int unkId;

    /// <summary>Builds the codec of <paramref name="model"/>.</summary>
    public SentencePieceBpeCodec(SentencePieceModel model)
    {
        this.model = model;
        var normal = new Dictionary<string, int>(StringComparer.Ordinal);
        unkId = model.UnkId;
        for (var id = 0; id < model.Pieces.Count; id++)
        {
            var type = model.Types[id];
            var target = type is TypeUnknown or TypeControl or TypeByte ? reservedPieces : normal;
            target.TryAdd(model.Pieces[id], id);
            if (type == TypeUnknown)
            {
                unkId = id;
            }

            if (type == TypeByte && TryParseBytePiece(model.Pieces[id], out var value))
            {
                byteIds[value] = id;
            }
        }

        normalPieces = normal.GetAlternateLookup<ReadOnlySpan<char>>();
        reservedLookup = reservedPieces.GetAlternateLookup<ReadOnlySpan<char>>();
        userDefined = new UserDefinedMatcher(Enumerable.Range(0, model.Pieces.Count).Where(i => model.Types[i] == TypeUserDefined).Select(i => model.Pieces[i]));
        normalizer = new SentencePieceNormalizer(model, userDefined);
    }

    /// <summary>Normalizes and encodes <paramref name="text"/> (no BOS/EOS).</summary>
    public List<int> Encode(string text)
    {
        var normalized = normalizer.Normalize(text);
        var ids = new List<int>(normalized.Length / 2 + 1);
        var previousUnknown = false;
        foreach (var (start, length) in Segment(normalized))
        {
            var piece = normalized.AsSpan(start, length);
            var id = PieceToId(piece);
            var unknown = model.Types[id] == TypeUnknown;
            if (unknown && model.ByteFallback)
            {
                foreach (var b in Encoding.UTF8.GetBytes(piece.ToString()))
                {
                    ids.Add(byteIds[b] >= 0 ? byteIds[b] : unkId);
                }
            }
            else if (!(unknown && previousUnknown))
            {
                ids.Add(id); // a run of unknown characters is one <unk>
            }

            previousUnknown = unknown;
        }

        return ids;
    }

    /// <summary>Decodes <paramref name="ids"/>; control pieces are written as their text unless <paramref name="skipControl"/>.</summary>
    public string Decode(IEnumerable<int> ids, bool skipControl)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        var expectBosSpace = true;
        var bosSpaceSeen = false;
        foreach (var id in ids)
        {
            if (id < 0 || id >= model.Pieces.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the {model.Pieces.Count}-piece vocabulary");
            }

            if (model.Types[id] == TypeByte && TryParseBytePiece(model.Pieces[id], out var value))
            {
                bytes.Add((byte)value);
                continue;
            }

            FlushBytes(bytes, text);
            if (bosSpaceSeen || text.Length > 0)
            {
                expectBosSpace = false;
            }

            var piece = model.Pieces[id];
            bosSpaceSeen = false;
            switch (model.Types[id])
            {
                case TypeControl:
                    text.Append(skipControl ? string.Empty : piece);
                    break;
                case TypeUnknown:
                    text.Append(model.UnkSurface);
                    break;
                default:
                    if (expectBosSpace && (model.AddDummyPrefix || model.RemoveExtraWhitespaces) && piece.StartsWith(SentencePieceNormalizer.SpaceSymbol, StringComparison.Ordinal))
                    {
                        piece = piece[SentencePieceNormalizer.SpaceSymbol.Length..];
                        bosSpaceSeen = !model.RemoveExtraWhitespaces;
                    }

                    text.Append(piece.Replace(SentencePieceNormalizer.SpaceSymbol, " ", StringComparison.Ordinal));
                    break;
            }
        }

        FlushBytes(bytes, text);
        return text.ToString();
    }

    /// <summary>The id of an exact piece string (control, byte and unknown pieces included), or null.</summary>
    public int? TryGetId(string piece) =>
        reservedPieces.TryGetValue(piece, out var id) || normalPieces.TryGetValue(piece, out id) ? id : null;

    /// <summary>sentencepiece's <c>PieceToId</c>: reserved (control, unknown, byte) pieces first, then the others, else unk.</summary>
    private int PieceToId(ReadOnlySpan<char> piece) =>
        reservedLookup.TryGetValue(piece, out var id) || normalPieces.TryGetValue(piece, out id) ? id : unkId;

    /// <summary>The final BPE symbols of <paramref name="normalized"/> as (start, length) spans, unused pieces resegmented.</summary>
    private List<(int Start, int Length)> Segment(string normalized)
    {
        var symbols = new List<Symbol>(normalized.Length);
        for (var position = 0; position < normalized.Length;)
        {
            var matched = userDefined.Match(normalized, position);
            var length = matched > 0 ? matched : char.IsHighSurrogate(normalized[position]) && position + 1 < normalized.Length && char.IsLowSurrogate(normalized[position + 1]) ? 2 : 1;
            symbols.Add(new Symbol(position, length, symbols.Count - 1, position + length < normalized.Length ? symbols.Count + 1 : -1, matched > 0));
            position += length;
        }

        // Best score first; among equal scores the leftmost pair (sentencepiece's SymbolPairComparator).
        var agenda = new PriorityQueue<(int Left, int Right, int Length), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));
        var unusedMerges = new Dictionary<string, (string Left, string Right)>(StringComparer.Ordinal);

        void MaybeAddPair(int left, int right)
        {
            if (left < 0 || right < 0 || symbols[left].Frozen || symbols[right].Frozen)
            {
                return;
            }

            var length = symbols[left].Length + symbols[right].Length;
            if (!normalPieces.TryGetValue(normalized.AsSpan(symbols[left].Start, length), out var id))
            {
                return;
            }

            agenda.Enqueue((left, right, length), (model.Scores[id], left));
            if (model.Types[id] == TypeUnused)
            {
                unusedMerges[normalized.Substring(symbols[left].Start, length)] =
                    (normalized.Substring(symbols[left].Start, symbols[left].Length), normalized.Substring(symbols[right].Start, symbols[right].Length));
            }
        }

        for (var i = 1; i < symbols.Count; i++)
        {
            MaybeAddPair(i - 1, i);
        }

        while (agenda.TryDequeue(out var pair, out _))
        {
            var (left, right) = (symbols[pair.Left], symbols[pair.Right]);
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != pair.Length)
            {
                continue; // a stale pair: one side has merged since
            }

            symbols[pair.Left] = left with { Length = pair.Length, Next = right.Next };
            if (right.Next >= 0)
            {
                symbols[right.Next] = symbols[right.Next] with { Prev = pair.Left };
            }

            symbols[pair.Right] = right with { Length = 0 };
            MaybeAddPair(symbols[pair.Left].Prev, pair.Left);
            MaybeAddPair(pair.Left, symbols[pair.Left].Next);
        }

        var output = new List<(int Start, int Length)>();
        for (var index = symbols.Count == 0 ? -1 : 0; index != -1; index = symbols[index].Next)
        {
            Resegment(normalized, symbols[index].Start, symbols[index].Length, unusedMerges, output);
        }

        return output;
    }

    private void Resegment(string normalized, int start, int length, Dictionary<string, (string Left, string Right)> unusedMerges, List<(int Start, int Length)> output)
    {
        var piece = normalized.AsSpan(start, length);
        if (!normalPieces.TryGetValue(piece, out var id) || model.Types[id] != TypeUnused || !unusedMerges.TryGetValue(piece.ToString(), out var halves))
        {
            output.Add((start, length));
            return;
        }

        Resegment(normalized, start, halves.Left.Length, unusedMerges, output);
        Resegment(normalized, start + halves.Left.Length, halves.Right.Length, unusedMerges, output);
    }

    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        while (span.Length > 0)
        {
            // sentencepiece maps each structurally invalid byte to one U+FFFD and goes on with the next byte.
            if (System.Text.Rune.DecodeFromUtf8(span, out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
                span = span[consumed..];
            }
            else
            {
                text.Append('\uFFFD');
                span = span[1..];
            }
        }

        bytes.Clear();
    }

    private static bool TryParseBytePiece(string piece, out int value)
    {
        value = -1;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && int.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    private readonly record struct Symbol(int Start, int Length, int Prev, int Next, bool Frozen);
}
