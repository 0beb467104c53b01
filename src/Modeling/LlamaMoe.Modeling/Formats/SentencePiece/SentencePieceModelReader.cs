using System.Text;

namespace LlamaMoe.Modeling.Formats.SentencePiece;

/// <summary>The parts of a SentencePiece <c>ModelProto</c> a GGUF export needs.</summary>
/// <param name="Pieces">Piece strings in id order.</param>
/// <param name="Scores">Piece scores.</param>
/// <param name="Types">Piece types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).</param>
/// <param name="UnkId">trainer_spec.unk_id.</param>
/// <param name="BosId">trainer_spec.bos_id (-1 when none).</param>
/// <param name="EosId">trainer_spec.eos_id (-1 when none).</param>
/// <param name="PadId">trainer_spec.pad_id (-1 when none).</param>
/// <param name="AddDummyPrefix">normalizer_spec.add_dummy_prefix.</param>
public sealed record SentencePieceModel(IReadOnlyList<string> Pieces, IReadOnlyList<float> Scores, IReadOnlyList<int> Types, int UnkId, int BosId, int EosId, int PadId, bool AddDummyPrefix)
{
    /// <summary>trainer_spec.byte_fallback: unknown characters become their UTF-8 byte pieces.</summary>
    public bool ByteFallback { get; init; }

    /// <summary>trainer_spec.unk_surface: the text an unknown piece decodes to (sentencepiece's default " \u2047 ").</summary>
    public string UnkSurface { get; init; } = " \u2047 ";

    /// <summary>trainer_spec.treat_whitespace_as_suffix.</summary>
    public bool TreatWhitespaceAsSuffix { get; init; }

    /// <summary>normalizer_spec.remove_extra_whitespaces (protobuf default true).</summary>
    public bool RemoveExtraWhitespaces { get; init; } = true;

    /// <summary>normalizer_spec.escape_whitespaces (protobuf default true).</summary>
    public bool EscapeWhitespaces { get; init; } = true;

    /// <summary>normalizer_spec.name (e.g. <c>identity</c>, <c>nmt_nfkc</c>).</summary>
    public string NormalizerName { get; init; } = string.Empty;

    /// <summary>trainer_spec.model_type when the file states it (1 unigram, 2 BPE, 3 word, 4 char).</summary>
    public int? ModelType { get; init; }

    /// <summary>True when normalizer_spec.precompiled_charsmap holds a normalization table (not the identity rule).</summary>
    public bool HasPrecompiledCharsmap { get; init; }
}

/// <summary>Reads a SentencePiece <c>tokenizer.model</c> (protobuf) with bounds checks (LMOE1151 when malformed).</summary>
public static class SentencePieceModelReader
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    public static SentencePieceModel Read(string path)
    {
        var bytes = ReadBounded(path);
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        long unk = 0, bos = 1, eos = 2, pad = -1;
        long? vocabSize = null;
        int? modelType = null;
        bool hasTrainer = false, hasNormalizer = false;
        var dummyPrefix = true;
        bool byteFallback = false, whitespaceSuffix = false, removeExtraWhitespaces = true, escapeWhitespaces = true, charsmap = false;
        string unkSurface = " \u2047 ", normalizerName = string.Empty;
        try
        {
            foreach (var (field, wire, value, data) in Fields(bytes))
            {
                if (field == 1 && wire == 2)
                {
                    string piece = string.Empty;
                    float score = 0;
                    var type = 1;
                    foreach (var (f, w, v, d) in Fields(data))
                    {
                        if (f == 1 && w == 2) piece = StrictUtf8.GetString(d);
                        else if (f == 2 && w == 5) score = BitConverter.ToSingle(d);
                        else if (f == 3 && w == 0) type = (int)v;
                    }

                    pieces.Add(piece);
                    scores.Add(score);
                    types.Add(type);
                }
                else if (field == 2 && wire == 2)
                {
                    hasTrainer = true;
                    foreach (var (f, w, v, d) in Fields(data))
                    {
                        if (f == 44 && w == 2) unkSurface = StrictUtf8.GetString(d);
                        if (w != 0) continue;
                        if (f == 4) vocabSize = (long)v;
                        else if (f == 40) unk = (long)v;
                        else if (f == 41) bos = (long)v;
                        else if (f == 42) eos = (long)v;
                        else if (f == 43) pad = (long)v;
                        else if (f == 35) byteFallback = v != 0;
                        else if (f == 3) modelType = (int)v;
                        else if (f == 24) whitespaceSuffix = v != 0;
                    }
                }
                else if (field == 3 && wire == 2)
                {
                    hasNormalizer = true;
                    foreach (var (f, w, v, d) in Fields(data))
                    {
                        if (f == 1 && w == 2) normalizerName = StrictUtf8.GetString(d);
                        else if (f == 2 && w == 2) charsmap = d.Length > 0;
                        else if (f == 3 && w == 0) dummyPrefix = v != 0;
                        else if (f == 4 && w == 0) removeExtraWhitespaces = v != 0;
                        else if (f == 5 && w == 0) escapeWhitespaces = v != 0;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            throw Malformed(path, ex.Message);
        }

        // A protobuf message cut at a field boundary still parses; the specs that follow the pieces and the vocabulary
        // size they record are what expose a truncated file.
        if (pieces.Count == 0)
        {
            throw Malformed(path, "no pieces");
        }

        if (!hasTrainer || !hasNormalizer)
        {
            throw Malformed(path, $"the {(hasTrainer ? "normalizer_spec" : "trainer_spec")} is missing (the file is probably truncated)");
        }

        if (vocabSize is { } declared && declared != pieces.Count)
        {
            throw Malformed(path, $"trainer_spec.vocab_size is {declared} but the file holds {pieces.Count} pieces (the file is probably truncated)");
        }

        if (unk < 0 || unk >= pieces.Count || bos < -1 || bos >= pieces.Count || eos < -1 || eos >= pieces.Count || pad < -1 || pad >= pieces.Count)
        {
            throw Malformed(path, $"a special token id (unk {unk}, bos {bos}, eos {eos}, pad {pad}) is outside the {pieces.Count}-piece vocabulary");
        }

        return new SentencePieceModel(pieces, scores, types, (int)unk, (int)bos, (int)eos, (int)pad, dummyPrefix)
        {
            ByteFallback = byteFallback,
            UnkSurface = unkSurface,
            TreatWhitespaceAsSuffix = whitespaceSuffix,
            RemoveExtraWhitespaces = removeExtraWhitespaces,
            EscapeWhitespaces = escapeWhitespaces,
            NormalizerName = normalizerName,
            HasPrecompiledCharsmap = charsmap,
            ModelType = modelType,
        };
    }

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>The largest accepted tokenizer.model (256 MB; real ones are well under 10 MB).</summary>
    public const long MaxBytes = 256L << 20;

    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length > MaxBytes)
        {
            throw Malformed(path, $"the file is {stream.Length} bytes, more than the {MaxBytes}-byte limit for a tokenizer");
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static IEnumerable<(int Field, int Wire, ulong Value, byte[] Data)> Fields(byte[] buffer)
    {
        var pos = 0;
        while (pos < buffer.Length)
        {
            var tag = Varint(buffer, ref pos);
            var field = tag >> 3 is 0 or > int.MaxValue ? throw new ArgumentException($"invalid protobuf field number {tag >> 3}") : (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    yield return (field, wire, Varint(buffer, ref pos), []);
                    break;
                case 1:
                    yield return (field, wire, 0, Slice(buffer, ref pos, 8));
                    break;
                case 2:
                    var length = Varint(buffer, ref pos);
                    yield return (field, wire, 0, Slice(buffer, ref pos, length > int.MaxValue ? throw new OverflowException("length") : (int)length));
                    break;
                case 5:
                    yield return (field, wire, 0, Slice(buffer, ref pos, 4));
                    break;
                default:
                    throw new ArgumentException($"unsupported protobuf wire type {wire}");
            }
        }
    }

    private static byte[] Slice(byte[] buffer, ref int pos, int length)
    {
        if (length < 0 || length > buffer.Length - pos)
        {
            throw new ArgumentException("a field runs past the end of the message");
        }

        var slice = buffer.AsSpan(pos, length).ToArray();
        pos += length;
        return slice;
    }

    private static ulong Varint(byte[] buffer, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = buffer[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new ArgumentException("varint longer than 10 bytes");
    }

    private static LlamaMoeException Malformed(string path, string message) =>
        new(FormatErrorCodes.TokenizerMalformed, "tokenizer.model is not a valid SentencePiece model: " + message, path, advice: "Use the model's original tokenizer.model.");
}
