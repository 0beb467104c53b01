using System.Buffers.Binary;
using System.Text;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Llama2c;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Import;

public sealed class ImportHostileFileTests
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

    [Test]
    public void PickleCheckpointIsRefused()
    {
        var path = dir.Combine("pytorch_model.bin");
        File.WriteAllBytes(path, [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
        Assert.That(Assert.Throws<LlamaMoeException>(() => ModelImporter.Import(path, dir.Combine("out")))!.Code, Is.EqualTo(FormatErrorCodes.PickleRefused));
    }

    [Test]
    public void ZipPyTorchCheckpointIsRefused()
    {
        var path = dir.Combine("model.pt");
        File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 0, 0]);
        Assert.That(Assert.Throws<LlamaMoeException>(() => ModelImporter.Import(path, dir.Combine("out")))!.Code, Is.EqualTo(FormatErrorCodes.PickleRefused));
    }

    [Test]
    public void Llama2cFileWithWrongSizeIsRefused()
    {
        var path = dir.Combine("bad.bin");
        var bytes = new byte[28 + 400];
        int[] header = [64, 172, 5, 8, 4, 512, 512];
        for (var i = 0; i < 7; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        }

        File.WriteAllBytes(path, bytes);
        Assert.That(Assert.Throws<LlamaMoeException>(() => Llama2cImporter.Read(path))!.Code, Is.EqualTo(FormatErrorCodes.Llama2cInvalid));
    }

    [Test]
    public void GgufWithBadVersionIsRefused() =>
        Expect(Gguf(version: 1, tensorCount: 0, kvCount: 0), FormatErrorCodes.GgufBadHeader);

    [Test]
    public void GgufWithHugeTensorCountIsRefused() =>
        Expect(Gguf(version: 3, tensorCount: ulong.MaxValue, kvCount: 0), FormatErrorCodes.GgufOutOfBounds);

    [Test]
    public void GgufWithStringLengthPastTheEndIsRefused()
    {
        var bytes = Gguf(version: 3, tensorCount: 0, kvCount: 1).Concat(BitConverter.GetBytes(long.MaxValue - 3)).Concat("abc"u8.ToArray()).ToArray();
        Expect(bytes, FormatErrorCodes.GgufOutOfBounds);
    }

    [Test]
    public void GgufWithArrayCountPastTheEndIsRefused()
    {
        using var s = new MemoryStream();
        s.Write(Gguf(version: 3, tensorCount: 0, kvCount: 1));
        WriteString(s, "tokenizer.ggml.scores");
        s.Write(BitConverter.GetBytes(9u));           // array
        s.Write(BitConverter.GetBytes(6u));           // of f32
        s.Write(BitConverter.GetBytes(1UL << 60));    // absurd count
        Expect(s.ToArray(), FormatErrorCodes.GgufOutOfBounds);
    }

    [Test]
    public void GgufTensorOffsetPastTheEndIsRefused()
    {
        using var s = new MemoryStream();
        s.Write(Gguf(version: 3, tensorCount: 1, kvCount: 0));
        WriteString(s, "token_embd.weight");
        s.Write(BitConverter.GetBytes(2u));
        s.Write(BitConverter.GetBytes(64UL));
        s.Write(BitConverter.GetBytes(512UL));
        s.Write(BitConverter.GetBytes(0u));           // F32
        s.Write(BitConverter.GetBytes(1UL << 40));    // offset far past the end
        Expect(s.ToArray(), FormatErrorCodes.GgufOutOfBounds);
    }

    [Test]
    public void GgufQuantizedTensorIsRefused()
    {
        using var s = new MemoryStream();
        s.Write(Gguf(version: 3, tensorCount: 1, kvCount: 0));
        WriteString(s, "token_embd.weight");
        s.Write(BitConverter.GetBytes(1u));
        s.Write(BitConverter.GetBytes(32UL));
        s.Write(BitConverter.GetBytes(2u));           // Q4_0
        s.Write(BitConverter.GetBytes(0UL));
        s.Write(new byte[64]);
        Expect(s.ToArray(), FormatErrorCodes.GgufUnsupportedType);
    }

    private static byte[] Gguf(uint version, ulong tensorCount, ulong kvCount)
    {
        using var s = new MemoryStream();
        s.Write("GGUF"u8);
        s.Write(BitConverter.GetBytes(version));
        s.Write(BitConverter.GetBytes(tensorCount));
        s.Write(BitConverter.GetBytes(kvCount));
        return s.ToArray();
    }

    private static void WriteString(Stream s, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        s.Write(BitConverter.GetBytes((ulong)bytes.Length));
        s.Write(bytes);
    }

    private void Expect(byte[] bytes, string code)
    {
        var path = dir.Combine("hostile.gguf");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<LlamaMoeException>(() => GgufFile.Read(path));
        Assert.That(ex!.Code, Is.EqualTo(code), ex.Message);
    }
}
