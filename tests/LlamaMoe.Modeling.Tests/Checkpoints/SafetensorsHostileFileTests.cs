using System.Buffers.Binary;
using System.Text;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Checkpoints;

public sealed class SafetensorsHostileFileTests
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
    public void ValidHandWrittenFileReadsBackAllDtypes()
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("f32", torch.arange(6, ScalarType.Float32).reshape(2, 3)),
            new("bf16", torch.arange(4, ScalarType.BFloat16)),
            new("f16", torch.arange(3, ScalarType.Float16)),
            new("f64", torch.arange(2, ScalarType.Float64)),
            new("i64", torch.arange(5, ScalarType.Int64)),
            new("i32", torch.arange(5, ScalarType.Int32)),
            new("i16", torch.arange(3, ScalarType.Int16)),
            new("i8", torch.arange(3, ScalarType.Int8)),
            new("u8", torch.arange(3, ScalarType.Byte)),
            new("bool", torch.tensor(new[] { true, false, true })),
            new("empty", torch.zeros(0, 4)),
        };
        var path = dir.Combine("all.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.That(headerLength % 8, Is.EqualTo(0UL));
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        foreach (var (name, expected) in tensors)
        {
            var actual = file.Read(name);
            Assert.That(actual.dtype, Is.EqualTo(expected.dtype), name);
            Assert.That(actual.shape, Is.EqualTo(expected.shape), name);
            Assert.That(actual.bytes.SequenceEqual(expected.bytes), Is.True, name);
        }
    }

    [Test]
    public void FileShorterThanTheLengthPrefixIsTruncated() =>
        ExpectCode(new byte[] { 1, 2, 3 }, FormatErrorCodes.SafetensorsTruncated);

    [Test]
    public void TruncatedDataIsRefused()
    {
        var bytes = Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 16);
        ExpectCode(bytes[..^4], FormatErrorCodes.SafetensorsTruncated);
    }

    [Test]
    public void HeaderLengthPastEndIsRefused()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        ExpectCode(bytes, FormatErrorCodes.SafetensorsHeaderPastEnd);
    }

    [Test]
    public void HeaderOver100MBIsRefused()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 200_000_000);
        ExpectCode(bytes, FormatErrorCodes.SafetensorsHeaderTooLarge);
    }

    [Test]
    public void HugeHeaderLengthDoesNotOverflow()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        ExpectCode(bytes, FormatErrorCodes.SafetensorsHeaderTooLarge);
    }

    [Test]
    public void OffsetsOutOfRangeAreRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 8), FormatErrorCodes.SafetensorsOffsetsOutOfRange);

    [Test]
    public void NegativeOffsetsAreRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 8), FormatErrorCodes.SafetensorsOffsetsOutOfRange);

    [Test]
    public void OverlappingOffsetsAreRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12),
            FormatErrorCodes.SafetensorsOverlappingOffsets);

    [Test]
    public void UnknownDtypeIsRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F8_E9","shape":[4],"data_offsets":[0,4]}}""", 4), FormatErrorCodes.SafetensorsUnknownDtype);

    [Test]
    public void ShapeNotMatchingByteCountIsRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", 16), FormatErrorCodes.SafetensorsShapeMismatch);

    [Test]
    public void OverflowingShapeIsRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}}""", 16), FormatErrorCodes.SafetensorsShapeMismatch);

    [Test]
    public void DuplicateHeaderKeysAreRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8),
            FormatErrorCodes.SafetensorsHeaderMalformed);

    [Test]
    public void NonJsonHeaderIsRefused() => ExpectCode(Build("not json at all", 0), FormatErrorCodes.SafetensorsHeaderMalformed);

    [TestCase("../outside.safetensors")]
    [TestCase("sub/../../outside.safetensors")]
    [TestCase("/etc/passwd")]
    public void ShardPathsEscapingTheModelDirectoryAreRefused(string shard)
    {
        var model = Directory.CreateDirectory(dir.Combine("model")).FullName;
        File.WriteAllText(Path.Combine(model, ShardedCheckpoint.IndexFileName), $$$"""{"metadata":{},"weight_map":{"a":"{{{shard}}}"}}""");
        var ex = Assert.Throws<LlamaMoeException>(() => ShardedCheckpoint.Open(model).Dispose());
        Assert.That(ex!.Code, Is.EqualTo(FormatErrorCodes.ShardPathEscapes));
    }

    [Test]
    public void IndexNamingAMissingShardIsRefused()
    {
        File.WriteAllText(dir.Combine(ShardedCheckpoint.IndexFileName), """{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors"}}""");
        var ex = Assert.Throws<LlamaMoeException>(() => ShardedCheckpoint.Open(dir.Path).Dispose());
        Assert.That(ex!.Code, Is.EqualTo(FormatErrorCodes.ShardIndexInvalid));
    }

    [TestCase("""["0","4"]""")]
    [TestCase("""[0,"4"]""")]
    [TestCase("""[0.5,4]""")]
    [TestCase("""[null,4]""")]
    [TestCase("""[[0],4]""")]
    public void DataOffsetsThatAreNotIntegersAreACodedError(string offsets) =>
        ExpectCode(Build($$$"""{"a":{"dtype":"F32","shape":[1],"data_offsets":{{{offsets}}}}}""", 4), FormatErrorCodes.SafetensorsOffsetsOutOfRange);

    [Test]
    public void GapBetweenTensorsIsRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12),
            FormatErrorCodes.SafetensorsUnexplainedBytes);

    [Test]
    public void GapBeforeTheFirstTensorIsRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), FormatErrorCodes.SafetensorsUnexplainedBytes);

    [Test]
    public void TrailingBytesAfterTheLastTensorAreRefused() =>
        ExpectCode(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 5), FormatErrorCodes.SafetensorsUnexplainedBytes);

    [Test]
    public void DataSectionWithoutTensorsIsRefused() => ExpectCode(Build("""{}""", 4), FormatErrorCodes.SafetensorsUnexplainedBytes);

    [Test]
    public void TensorsOutOfFileOrderButContiguousAreAccepted()
    {
        var path = dir.Combine("reordered.safetensors");
        File.WriteAllBytes(path, Build("""{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8));
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Tensors.Keys, Is.EquivalentTo(new[] { "a", "b" }));
    }

    [TestCase("a\\u001b[31mred")]
    [TestCase("line\\nbreak")]
    [TestCase("")]
    public void TensorNamesWithControlCharactersOrEmptyAreRefused(string jsonName)
    {
        var path = dir.Combine("names.safetensors");
        File.WriteAllBytes(path, Build($$$"""{"{{{jsonName}}}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4));
        var ex = Assert.Throws<LlamaMoeException>(() => SafetensorsFile.Open(path).Dispose())!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.InvalidName));
        Assert.That(ex.ToCanonicalString().Any(char.IsControl), Is.False, "the message is escaped for the terminal");
    }

    [Test]
    public void ShapeWithTooManyDimensionsIsRefused() =>
        ExpectCode(Build($$$"""{"a":{"dtype":"F32","shape":[{{{string.Join(",", Enumerable.Repeat(1, 40))}}}],"data_offsets":[0,4]}}""", 4), FormatErrorCodes.SafetensorsShapeMismatch);

    [Test]
    public void IndexWithAWrongTotalSizeIsRefused()
    {
        WriteShard(dir.Combine("model-00001-of-00001.safetensors"));
        File.WriteAllText(dir.Combine(ShardedCheckpoint.IndexFileName), """{"metadata":{"total_size":9999},"weight_map":{"a":"model-00001-of-00001.safetensors"}}""");
        var ex = Assert.Throws<LlamaMoeException>(() => ShardedCheckpoint.Open(dir.Path).Dispose())!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.ShardIndexInvalid));
        Assert.That(ex.Key, Is.EqualTo("metadata.total_size"));
    }

    [Test]
    public void IndexWithTheRightTotalSizeLoads()
    {
        WriteShard(dir.Combine("model-00001-of-00001.safetensors"));
        File.WriteAllText(dir.Combine(ShardedCheckpoint.IndexFileName), """{"metadata":{"total_size":4},"weight_map":{"a":"model-00001-of-00001.safetensors"}}""");
        using var checkpoint = ShardedCheckpoint.Open(dir.Path);
        Assert.That(checkpoint.Names, Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void ShardThatIsASymlinkOutsideTheModelDirectoryIsRefused()
    {
        var outside = dir.Combine("outside.safetensors");
        WriteShard(outside);
        var model = Directory.CreateDirectory(dir.Combine("model")).FullName;
        File.CreateSymbolicLink(Path.Combine(model, "model-00001-of-00001.safetensors"), outside);
        File.WriteAllText(Path.Combine(model, ShardedCheckpoint.IndexFileName), """{"metadata":{},"weight_map":{"a":"model-00001-of-00001.safetensors"}}""");
        var ex = Assert.Throws<LlamaMoeException>(() => ShardedCheckpoint.Open(model).Dispose())!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.ShardPathEscapes), ex.Message);
    }

    [Test]
    public void ShardBehindASymlinkedFolderOutsideTheModelDirectoryIsRefused()
    {
        var elsewhere = Directory.CreateDirectory(dir.Combine("elsewhere")).FullName;
        WriteShard(Path.Combine(elsewhere, "shard.safetensors"));
        var model = Directory.CreateDirectory(dir.Combine("model")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(model, "sub"), elsewhere);
        File.WriteAllText(Path.Combine(model, ShardedCheckpoint.IndexFileName), """{"metadata":{},"weight_map":{"a":"sub/shard.safetensors"}}""");
        var ex = Assert.Throws<LlamaMoeException>(() => ShardedCheckpoint.Open(model).Dispose())!;
        Assert.That(ex.Code, Is.EqualTo(FormatErrorCodes.ShardPathEscapes), ex.Message);
    }

    [Test]
    public void ShardThatIsASymlinkInsideTheModelDirectoryLoads()
    {
        var model = Directory.CreateDirectory(dir.Combine("model")).FullName;
        WriteShard(Path.Combine(model, "real.safetensors"));
        File.CreateSymbolicLink(Path.Combine(model, "model-00001-of-00001.safetensors"), "real.safetensors");
        File.WriteAllText(Path.Combine(model, ShardedCheckpoint.IndexFileName), """{"metadata":{},"weight_map":{"a":"model-00001-of-00001.safetensors"}}""");
        using var checkpoint = ShardedCheckpoint.Open(model);
        Assert.That(checkpoint.Names, Is.EqualTo(new[] { "a" }));
    }

    private static void WriteShard(string path) =>
        File.WriteAllBytes(path, Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4));

    private static byte[] Build(string header, int dataBytes)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        return bytes;
    }

    private void ExpectCode(byte[] bytes, string code)
    {
        var path = dir.Combine("hostile.safetensors");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<LlamaMoeException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(ex!.Code, Is.EqualTo(code), ex.Message);
        Assert.That(ex.FilePath, Is.EqualTo(path));
    }
}
