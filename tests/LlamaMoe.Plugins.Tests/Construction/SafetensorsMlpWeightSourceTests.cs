using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Plugins.Construction;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class SafetensorsMlpWeightSourceTests
{
    [Test]
    public void ReadsEveryLayersMlpAsRowMajorFloats()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Path, layers: 3, hidden: 16, intermediate: 24);
        var source = new SafetensorsMlpWeightSource();
        Assert.That(source.CanRead(temp.Path), Is.True);

        var layers = source.ReadLayers(temp.Path, CancellationToken.None).ToList();
        Assert.That(layers.Select(l => l.LayerIndex), Is.EqualTo(new[] { 0, 1, 2 }));
        using var checkpoint = ShardedCheckpoint.Open(temp.Path);
        using var down = checkpoint.Read("model.layers.2.mlp.down_proj.weight"); // (H, I)
        using var gate = checkpoint.Read("model.layers.1.mlp.gate_proj.weight"); // (I, H)
        Assert.That(layers[2].Down.ToArray(), Is.EqualTo(down.data<float>().ToArray()));
        Assert.That(layers[1].GateRow(5).ToArray(), Is.EqualTo(gate[5].data<float>().ToArray()));
        Assert.That(layers[0].Hidden, Is.EqualTo(16));
        Assert.That(layers[0].Intermediate, Is.EqualTo(24));
    }

    [Test]
    public void DoesNotClaimFoldersWithoutADenseLlamaCheckpoint()
    {
        using var temp = new TempDirectory();
        var source = new SafetensorsMlpWeightSource();
        Assert.That(source.CanRead(temp.Path), Is.False, "empty folder");
        MlpWeightsFolder.Write(temp.Path, [new MlpLayerWeights(0, 2, 2, new float[4], new float[4], new float[4])]);
        Assert.That(source.CanRead(temp.Path), Is.False, "fixture format");
        TinyDenseModel.Write(temp.Combine("moe"));
        File.WriteAllText(temp.Combine("moe", "config.json"), "{\"model_type\": \"llamamoe\"}");
        Assert.That(source.CanRead(temp.Combine("moe")), Is.False, "an MoE model is not dense");
    }

    [Test]
    public void AMismatchedShapeIsACodedError()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Path, intermediate: 24);
        var config = File.ReadAllText(temp.Combine("config.json")).Replace("\"intermediate_size\": 24", "\"intermediate_size\": 20", StringComparison.Ordinal);
        File.WriteAllText(temp.Combine("config.json"), config);
        var ex = Assert.Throws<LlamaMoeException>(() => new SafetensorsMlpWeightSource().ReadLayers(temp.Path, CancellationToken.None).ToList());
        Assert.That(ex!.Code, Is.EqualTo("LMOE2401"));
    }

    [Test]
    public void StopsWhenCancelled()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Path);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.Throws<OperationCanceledException>(() => new SafetensorsMlpWeightSource().ReadLayers(temp.Path, cancellation.Token).ToList());
    }
}
