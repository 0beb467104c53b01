using LlamaMoe.Modeling.Formats;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Hardening;

/// <summary>Hostile or inconsistent variants of stories260K.gguf: each is a coded error, never a crash or a silent import.</summary>
public sealed class GgufHardeningTests
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
    public void UnchangedRewriteImports()
    {
        var ex = Catch(GgufRewriter.Rewrite(SharedData.Stories260KGguf));
        Assert.That(ex, Is.Null, ex?.ToCanonicalString());
    }

    private static IEnumerable<TestCaseData> AlignmentValues()
    {
        yield return new TestCaseData((object)"32").SetName("AlignmentAsAStringIsACodedError");
        yield return new TestCaseData((object)new object[] { 32u }).SetName("AlignmentAsAnArrayIsACodedError");
        yield return new TestCaseData((object)0u).SetName("AlignmentZeroIsACodedError");
        yield return new TestCaseData((object)48u).SetName("AlignmentNotAPowerOfTwoIsACodedError");
        yield return new TestCaseData((object)ulong.MaxValue).SetName("AlignmentTwoToThe64MinusOneIsACodedError");
        yield return new TestCaseData((object)-32).SetName("NegativeAlignmentIsACodedError");
        yield return new TestCaseData((object)32.0f).SetName("FloatAlignmentIsACodedError");
    }

    [TestCaseSource(nameof(AlignmentValues))]
    public void BadAlignment(object value) =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => m.Add(new("general.alignment", value))), FormatErrorCodes.GgufOutOfBounds, "general.alignment");

    [Test]
    public void SplitFilesAreRefusedAsUnsupported() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => m.Add(new("split.count", (ushort)3))), FormatErrorCodes.GgufSplitUnsupported, "split.count");

    [Test]
    public void EmptyMetadataKeyIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => m.Add(new(string.Empty, 1u))), FormatErrorCodes.InvalidName);

    [Test]
    public void MetadataKeyWithControlCharactersIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => m.Add(new("evil\u001b[2J", 1u))), FormatErrorCodes.InvalidName);

    [TestCase("tokenizer.ggml.bos_token_id")]
    [TestCase("tokenizer.ggml.eos_token_id")]
    [TestCase("tokenizer.ggml.unknown_token_id")]
    public void TokenIdOutsideTheVocabularyIsRefused(string key) =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => Set(m, key, 512u)), FormatErrorCodes.GgufInconsistent, key);

    [Test]
    public void OneDimensionalEmbeddingIsACodedError() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, editTensors: t => Edit(t, "token_embd.weight", e => e with { Dims = [e.Dims[0] * e.Dims[1]] })),
            FormatErrorCodes.GgufInconsistent, "token_embd.weight");

    [Test]
    public void BlockCountSmallerThanTheBlocksPresentIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => Set(m, "llama.block_count", 4u)), FormatErrorCodes.GgufInconsistent, "blk.4.");

    [TestCase(6u)]
    [TestCase((uint)int.MaxValue)]
    public void BlockCountLargerThanTheBlocksPresentIsRefusedQuickly(uint blocks)
    {
        var bytes = GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => Set(m, "llama.block_count", blocks));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Expect(bytes, FormatErrorCodes.GgufInconsistent, "llama.block_count");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void HeadCountZeroIsACodedError()
    {
        var ex = Catch(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m => Set(m, "llama.attention.head_count", 0u)));
        Assert.That(ex, Is.Not.Null);
        Assert.That(ex!.Code, Does.StartWith("LMOE"));
    }

    [Test]
    public void TokenizerSmallerThanTheEmbeddingIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, m =>
        {
            foreach (var key in new[] { "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type" })
            {
                var index = m.FindIndex(kv => kv.Key == key);
                if (index >= 0)
                {
                    m[index] = new(key, ((object[])m[index].Value)[..500]);
                }
            }
        }), FormatErrorCodes.GgufInconsistent, "tokenizer.ggml.tokens");

    [Test]
    public void OverlappingTensorsAreRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, editTensors: t => t[2] = t[2] with { RelativeOffset = t[1].RelativeOffset }), FormatErrorCodes.GgufUnexplainedBytes);

    [Test]
    public void TensorOffsetOutOfRangeIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, editTensors: t => t[0] = t[0] with { RelativeOffset = 1L << 40 }), FormatErrorCodes.GgufOutOfBounds);

    [Test]
    public void TensorWithTheWrongShapeIsRefused() =>
        Expect(GgufRewriter.Rewrite(SharedData.Stories260KGguf, editTensors: t => Edit(t, "blk.0.attn_q.weight", e => e with { Dims = [e.Dims[1], e.Dims[0] / 2, 2] })),
            FormatErrorCodes.GgufInconsistent, "blk.0.attn_q.weight");

    [Test]
    public void TrailingBytesAfterTheLastTensorAreRefused() =>
        Expect([.. GgufRewriter.Rewrite(SharedData.Stories260KGguf), .. new byte[64]], FormatErrorCodes.GgufUnexplainedBytes);

    private static void Set(List<KeyValuePair<string, object>> metadata, string key, object value)
    {
        metadata.RemoveAll(kv => kv.Key == key);
        metadata.Add(new(key, value));
    }

    private static void Edit(List<GgufRewriter.TensorEntry> tensors, string name, Func<GgufRewriter.TensorEntry, GgufRewriter.TensorEntry> edit)
    {
        var index = tensors.FindIndex(t => t.Name == name);
        tensors[index] = edit(tensors[index]);
    }

    private LlamaMoeException? Catch(byte[] bytes)
    {
        var path = dir.Combine("hostile.gguf");
        File.WriteAllBytes(path, bytes);
        try
        {
            ModelImporter.Import(path, dir.Combine("out-" + Guid.NewGuid().ToString("N")));
            return null;
        }
        catch (LlamaMoeException ex)
        {
            return ex;
        }
    }

    private void Expect(byte[] bytes, string code, string? key = null)
    {
        var ex = Catch(bytes);
        Assert.That(ex, Is.Not.Null, "the file was imported");
        Assert.That(ex!.Code, Is.EqualTo(code), ex.ToCanonicalString());
        Assert.That(ex.FilePath, Does.EndWith("hostile.gguf"));
        if (key is not null)
        {
            Assert.That(ex.Key, Does.StartWith(key), ex.ToCanonicalString());
        }
    }
}
