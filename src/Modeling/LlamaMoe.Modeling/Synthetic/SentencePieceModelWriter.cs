using System.Text;

namespace LlamaMoe.Modeling.Synthetic;

/// <summary>Serializes a BPE vocabulary as a SentencePiece ModelProto (protobuf wire format, written by hand).</summary>
public static class SentencePieceModelWriter
{
    private const int TypeNormal = 1;
    private const int TypeUnknown = 2;
    private const int TypeControl = 3;

    /// <summary>Writes specials, then <paramref name="merges"/> (higher score merges first), then <paramref name="characters"/>.</summary>
    public static byte[] Write(IReadOnlyList<string> merges, IReadOnlyList<string> characters)
    {
        using var model = new MemoryStream();
        WriteMessage(model, 1, Piece("<unk>", 0f, TypeUnknown));
        WriteMessage(model, 1, Piece("<s>", 0f, TypeControl));
        WriteMessage(model, 1, Piece("</s>", 0f, TypeControl));
        for (var i = 0; i < merges.Count; i++)
        {
            WriteMessage(model, 1, Piece(merges[i], -i, TypeNormal));
        }

        for (var i = 0; i < characters.Count; i++)
        {
            WriteMessage(model, 1, Piece(characters[i], -(merges.Count + i), TypeNormal));
        }

        using (var trainer = new MemoryStream())
        {
            WriteVarintField(trainer, 3, 2); // model_type = BPE
            WriteVarintField(trainer, 4, (ulong)(3 + merges.Count + characters.Count)); // vocab_size
            WriteVarintField(trainer, 40, 0); // unk_id
            WriteVarintField(trainer, 41, 1); // bos_id
            WriteVarintField(trainer, 42, 2); // eos_id
            WriteVarintField(trainer, 43, unchecked((ulong)-1L)); // pad_id = -1
            WriteMessage(model, 2, trainer.ToArray());
        }

        using (var normalizer = new MemoryStream())
        {
            WriteBytesField(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
            WriteVarintField(normalizer, 3, 1); // add_dummy_prefix
            WriteVarintField(normalizer, 4, 0); // remove_extra_whitespaces
            WriteVarintField(normalizer, 5, 1); // escape_whitespaces
            WriteMessage(model, 3, normalizer.ToArray());
        }

        return model.ToArray();
    }

    private static byte[] Piece(string text, float score, int type)
    {
        using var piece = new MemoryStream();
        WriteBytesField(piece, 1, Encoding.UTF8.GetBytes(text));
        WriteVarint(piece, (2 << 3) | 5); // score: fixed32
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, score);
        piece.Write(bytes);
        WriteVarintField(piece, 3, (ulong)type);
        return piece.ToArray();
    }

    private static void WriteMessage(Stream stream, int field, byte[] message) => WriteBytesField(stream, field, message);

    private static void WriteBytesField(Stream stream, int field, byte[] bytes)
    {
        WriteVarint(stream, ((ulong)field << 3) | 2);
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarintField(Stream stream, int field, ulong value)
    {
        WriteVarint(stream, (ulong)field << 3);
        WriteVarint(stream, value);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
