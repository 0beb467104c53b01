using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Checkpoints;

/// <summary>The one checkpoint writer: eager tensors and streamed tensors go through the same code, and a save leaves no stale files.</summary>
public sealed class CheckpointWriterTests
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

    private static List<KeyValuePair<string, Tensor>> Tensors() =>
    [
        new("model.embed_tokens.weight", torch.arange(64, ScalarType.Float32).reshape(16, 4)), // 256 bytes
        new("model.norm.weight", torch.ones(4, ScalarType.BFloat16)), // 8 bytes
        new("lm_head.weight", torch.arange(64, ScalarType.Float32).reshape(16, 4)), // 256 bytes
    ];

    [Test]
    public void ASingleFileSaveOverAShardedOneRemovesTheStaleIndexAndShards()
    {
        using var scope = NewDisposeScope();
        var tensors = Tensors();
        var sharded = StreamingCheckpointWriter.Write(dir.Path, tensors, maxShardBytes: 300);
        Assert.That(sharded.Select(Path.GetFileName), Is.EqualTo(new[]
        {
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", ShardedCheckpoint.IndexFileName,
        }));

        var single = StreamingCheckpointWriter.Write(dir.Path, tensors);

        Assert.That(single.Select(Path.GetFileName), Is.EqualTo(new[] { ShardedCheckpoint.SingleFileName }));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { ShardedCheckpoint.SingleFileName }));
        using var reopened = ShardedCheckpoint.Open(dir.Path);
        Assert.That(reopened.Read("lm_head.weight").bytes.SequenceEqual(tensors[2].Value.bytes), Is.True);
    }

    [Test]
    public void AShardedSaveOverAnotherRemovesTheSingleFileAndShardsOfTheOldCount()
    {
        using var scope = NewDisposeScope();
        var tensors = Tensors();
        StreamingCheckpointWriter.Write(dir.Path, tensors);
        StreamingCheckpointWriter.Write(dir.Path, tensors, maxShardBytes: 200); // three shards
        File.WriteAllText(dir.Combine("notes.txt"), "kept");

        StreamingCheckpointWriter.Write(dir.Path, tensors, maxShardBytes: 300); // two shards

        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(), Is.EqualTo(new[]
        {
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", ShardedCheckpoint.IndexFileName, "notes.txt",
        }));
    }

    [Test]
    public void EagerAndStreamedTensorsGiveByteIdenticalFilesAndTheCallerKeepsItsTensors()
    {
        using var scope = NewDisposeScope();
        var tensors = Tensors();
        var eager = dir.Combine("eager");
        var streamed = dir.Combine("streamed");
        StreamingCheckpointWriter.Write(eager, tensors);
        StreamingCheckpointWriter.Write(streamed, tensors.Select(t => new StreamedTensor(t.Key, t.Value.dtype, t.Value.shape, () => t.Value.clone())).ToList());

        var name = ShardedCheckpoint.SingleFileName;
        Assert.That(File.ReadAllBytes(Path.Combine(eager, name)), Is.EqualTo(File.ReadAllBytes(Path.Combine(streamed, name))));
        Assert.That(tensors.All(t => !t.Value.IsInvalid), Is.True);
        Assert.That(tensors[0].Value.sum().item<float>(), Is.EqualTo(2016f));
    }
}
