using System.Buffers.Binary;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Llama2c;
using LlamaMoe.Modeling.Formats.SentencePiece;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Hardening;

/// <summary>Hostile llama2.c headers and truncated SentencePiece models are coded errors.</summary>
public sealed class Llama2cAndTokenizerHardeningTests
{
    private TempDirectory dir = null!;

    [SetUp]
    public void Create()
    {
        TorchRuntime.EnsureLoaded();
        dir = new TempDirectory();
    }

    [TearDown]
    public void Remove() => dir.Dispose();

    [TestCase(1 << 30, 1 << 30, 1 << 30, 1 << 20, 1 << 20, int.MaxValue, int.MaxValue, TestName = "Llama2cHeaderWhoseImpliedSizeWrapsInt64IsRefused")]
    [TestCase(int.MaxValue - 1, int.MaxValue, int.MaxValue, 2, 1, int.MinValue, int.MaxValue, TestName = "Llama2cHeaderWithExtremeValuesIsRefused")]
    [TestCase(0, 172, 5, 8, 4, 512, 512, TestName = "Llama2cZeroDimIsRefused")]
    [TestCase(64, -172, 5, 8, 4, 512, 512, TestName = "Llama2cNegativeHiddenDimIsRefused")]
    [TestCase(64, 172, 0, 8, 4, 512, 512, TestName = "Llama2cZeroLayersIsRefused")]
    [TestCase(64, 172, 5, 0, 4, 512, 512, TestName = "Llama2cZeroHeadsIsRefused")]
    [TestCase(64, 172, 5, 8, -4, 512, 512, TestName = "Llama2cNegativeKvHeadsIsRefused")]
    [TestCase(64, 172, 5, 8, 4, 0, 512, TestName = "Llama2cZeroVocabIsRefused")]
    [TestCase(64, 172, 5, 8, 4, 512, -1, TestName = "Llama2cNegativeSeqLenIsRefused")]
    public void HostileLlama2cHeader(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen)
    {
        var bytes = new byte[28 + 1024];
        int[] header = [dim, hidden, layers, heads, kvHeads, vocab, seqLen];
        for (var i = 0; i < 7; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        }

        var path = dir.Combine("hostile.bin");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<LlamaMoeException>(() => Llama2cImporter.Read(path).Dispose())!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.Llama2cInvalid), ex.Message);
    }

    [Test]
    public void TruncatedTokenizerModelIsACodedErrorAtEveryLength()
    {
        var original = File.ReadAllBytes(SharedData.Tok512Model);
        var path = dir.Combine("tokenizer.model");
        var lengths = Enumerable.Range(0, 64).Select(i => (int)((long)original.Length * i / 64)).Append(original.Length - 1).Distinct();
        foreach (var length in lengths)
        {
            File.WriteAllBytes(path, original[..length]);
            var reader = Assert.Throws<LlamaMoeException>(() => SentencePieceModelReader.Read(path), $"reader, {length} bytes")!;
            Assert.That(reader.Code, Is.EqualTo(FormatErrorCodes.TokenizerMalformed), $"{length} bytes: {reader.Message}");
            var tokenizer = Assert.Throws<LlamaMoeException>(() => SentencePieceTextTokenizer.Load(path), $"tokenizer, {length} bytes")!;
            Assert.That(tokenizer.Code, Is.EqualTo(FormatErrorCodes.TokenizerMalformed), $"{length} bytes: {tokenizer.Message}");
        }
    }

    [Test]
    public void TokenizerCutAtAFieldBoundaryIsDetected()
    {
        // Cut right after the last piece: the protobuf still parses, but the trainer and normalizer specs are gone.
        var original = File.ReadAllBytes(SharedData.Tok512Model);
        var model = SentencePieceModelReader.Read(SharedData.Tok512Model);
        var path = dir.Combine("tokenizer.model");
        var cut = FirstNonPieceField(original);
        File.WriteAllBytes(path, original[..cut]);
        var ex = Assert.Throws<LlamaMoeException>(() => SentencePieceModelReader.Read(path))!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.TokenizerMalformed));
        Assert.That(model.Pieces, Has.Count.EqualTo(512));
    }

    private static int FirstNonPieceField(byte[] bytes)
    {
        var pos = 0;
        while (pos < bytes.Length && bytes[pos] == 0x0A)
        {
            pos++;
            ulong length = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[pos++];
                length |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            pos += (int)length;
        }

        return pos;
    }
}
