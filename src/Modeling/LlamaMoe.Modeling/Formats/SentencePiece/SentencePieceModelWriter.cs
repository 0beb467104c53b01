using System.Text;
using LlamaMoe.Modeling.Formats.Gguf;

namespace LlamaMoe.Modeling.Formats.SentencePiece;

/// <summary>
/// Writes a SentencePiece <c>ModelProto</c> (the <c>tokenizer.model</c> format) for a BPE vocabulary: pieces with scores
/// and types, a trainer spec (BPE, byte fallback, unk/bos/eos ids) and an identity normalizer spec.
/// </summary>
public static class SentencePieceModelWriter
{
    /// <summary>SentencePiece piece types (same numbering as GGUF's <c>tokenizer.ggml.token_type</c>).</summary>
    public enum PieceType
    {
        /// <summary>A normal piece.</summary>
        Normal = 1,

        /// <summary>The unknown piece.</summary>
        Unknown = 2,

        /// <summary>A control piece (BOS, EOS).</summary>
        Control = 3,

        /// <summary>A user-defined piece.</summary>
        UserDefined = 4,

        /// <summary>An unused piece.</summary>
        Unused = 5,

        /// <summary>A byte-fallback piece (<c>&lt;0xNN&gt;</c>).</summary>
        Byte = 6,
    }

    /// <summary>Serialises the model.</summary>
    public static byte[] Build(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, IReadOnlyList<PieceType> types, int unkId, int bosId, int eosId, bool addDummyPrefix) =>
        Serialise(pieces, scores, types, unkId, bosId, eosId, addDummyPrefix, writeDefaultFields: true);

    /// <summary>
    /// Serialises a freshly trained BPE vocabulary (model/init): the specials <c>&lt;unk&gt; &lt;s&gt; &lt;/s&gt;</c> (ids 0, 1, 2),
    /// then <paramref name="merges"/> (earlier merges score higher), then <paramref name="characters"/>, with a dummy prefix.
    /// </summary>
    public static byte[] Write(IReadOnlyList<string> merges, IReadOnlyList<string> characters)
    {
        var pieces = new List<string>(3 + merges.Count + characters.Count) { "<unk>", "<s>", "</s>" };
        pieces.AddRange(merges);
        pieces.AddRange(characters);
        var scores = pieces.Select((_, i) => i < 3 ? 0f : -(i - 3)).ToList();
        var types = pieces.Select((_, i) => i switch { 0 => PieceType.Unknown, 1 or 2 => PieceType.Control, _ => PieceType.Normal }).ToList();

        // The trained model never carried byte_fallback nor an empty precompiled charsmap: its bytes stay as they were.
        return Serialise(pieces, scores, types, unkId: 0, bosId: 1, eosId: 2, addDummyPrefix: true, writeDefaultFields: false);
    }

    private static byte[] Serialise(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, IReadOnlyList<PieceType> types, int unkId, int bosId, int eosId, bool addDummyPrefix, bool writeDefaultFields)
    {
        using var model = new MemoryStream();
        for (var i = 0; i < pieces.Count; i++)
        {
            using var piece = new MemoryStream();
            WriteBytes(piece, 1, Encoding.UTF8.GetBytes(pieces[i]));
            WriteFloat(piece, 2, scores[i]);
            WriteVarintField(piece, 3, (ulong)types[i]);
            WriteBytes(model, 1, piece.ToArray());
        }

        using (var trainer = new MemoryStream())
        {
            WriteVarintField(trainer, 3, 2); // model_type = BPE
            WriteVarintField(trainer, 4, (ulong)pieces.Count);
            if (writeDefaultFields)
            {
                WriteVarintField(trainer, 35, types.Contains(PieceType.Byte) ? 1UL : 0UL); // byte_fallback
            }

            WriteVarintField(trainer, 40, unchecked((ulong)(long)unkId));
            WriteVarintField(trainer, 41, unchecked((ulong)(long)bosId));
            WriteVarintField(trainer, 42, unchecked((ulong)(long)eosId));
            WriteVarintField(trainer, 43, unchecked((ulong)-1L)); // pad_id = -1
            WriteBytes(model, 2, trainer.ToArray());
        }

        using (var normalizer = new MemoryStream())
        {
            WriteBytes(normalizer, 1, "identity"u8.ToArray());
            if (writeDefaultFields)
            {
                WriteBytes(normalizer, 2, []); // precompiled_charsmap: empty
            }

            WriteVarintField(normalizer, 3, addDummyPrefix ? 1UL : 0UL);
            WriteVarintField(normalizer, 4, 0); // remove_extra_whitespaces = false (llama.cpp's SentencePiece behaviour)
            WriteVarintField(normalizer, 5, 1); // escape_whitespaces
            WriteBytes(model, 3, normalizer.ToArray());
        }

        return model.ToArray();
    }

    /// <summary>Builds a tokenizer.model from GGUF <c>tokenizer.ggml.*</c> metadata (model <c>llama</c>).</summary>
    public static byte[] FromGguf(GgufFile file)
    {
        var model = GgufImporter.Text(file, "tokenizer.ggml.model");
        if (model != "llama")
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, $"GGUF tokenizer model '{model}' cannot be written as SentencePiece (only 'llama')", file.Path, "tokenizer.ggml.model",
                "Pass the model's tokenizer with --tokenizer.");
        }

        var tokens = Array(file, "tokenizer.ggml.tokens").Select(t => t as string ?? throw Bad(file, "tokenizer.ggml.tokens")).ToList();
        var scores = file.Metadata.ContainsKey("tokenizer.ggml.scores")
            ? Array(file, "tokenizer.ggml.scores").Select(s => s is float f ? f : throw Bad(file, "tokenizer.ggml.scores")).ToList()
            : tokens.Select(_ => 0f).ToList();
        var types = file.Metadata.ContainsKey("tokenizer.ggml.token_type")
            ? Array(file, "tokenizer.ggml.token_type").Select(t => t is int i && i is >= 1 and <= 6 ? (PieceType)i : throw Bad(file, "tokenizer.ggml.token_type")).ToList()
            : tokens.Select(_ => PieceType.Normal).ToList();
        if (scores.Count != tokens.Count || types.Count != tokens.Count)
        {
            throw Bad(file, "tokenizer.ggml.scores");
        }

        int Id(string key, int fallback)
        {
            var id = file.Metadata.TryGetValue(key, out var raw) && !GgufImporter.IsNoToken(raw) ? GgufImporter.Int(file, key) : fallback;
            return id < tokens.Count ? id
                : throw new LlamaMoeException(FormatErrorCodes.TokenizerMalformed, $"GGUF tokenizer metadata '{key}' is {id}, outside the {tokens.Count}-token vocabulary", file.Path, key,
                    "Re-convert the model, or pass its tokenizer with --tokenizer.");
        }

        var addPrefix = !file.Metadata.TryGetValue("tokenizer.ggml.add_space_prefix", out var p) || p is true;
        return Build(tokens, scores, types, Id("tokenizer.ggml.unknown_token_id", 0), Id("tokenizer.ggml.bos_token_id", 1), Id("tokenizer.ggml.eos_token_id", 2), addPrefix);
    }

    private static object[] Array(GgufFile file, string key) =>
        file.Metadata.TryGetValue(key, out var v) && v is object[] a ? a : throw Bad(file, key);

    private static LlamaMoeException Bad(GgufFile file, string key) =>
        new(FormatErrorCodes.TokenizerMalformed, $"GGUF tokenizer metadata '{key}' is missing or malformed", file.Path, key);

    private static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, (ulong)((field << 3) | wire));

    private static void WriteVarintField(Stream s, int field, ulong value)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, value);
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteTag(s, field, 5);
        s.Write(BitConverter.GetBytes(value));
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        s.WriteByte((byte)value);
    }
}
