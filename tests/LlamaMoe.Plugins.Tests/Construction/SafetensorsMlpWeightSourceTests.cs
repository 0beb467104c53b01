using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Plugins.Construction;
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

        using var reader = source.Open(temp.Path);
        Assert.That(reader.Shape, Is.EqualTo(new MlpShape(3, 16, 24)));
        using var checkpoint = ShardedCheckpoint.Open(temp.Path);
        using var down = checkpoint.Read("model.layers.2.mlp.down_proj.weight"); // (H, I)
        using var gate = checkpoint.Read("model.layers.1.mlp.gate_proj.weight"); // (I, H)
        Assert.That(reader.Read(2, MlpProjection.Down), Is.EqualTo(down.data<float>().ToArray()));
        Assert.That(reader.Read(1, MlpProjection.Gate).AsSpan(5 * 16, 16).ToArray(), Is.EqualTo(gate[5].data<float>().ToArray()));
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
        using var reader = new SafetensorsMlpWeightSource().Open(temp.Path);
        var ex = Assert.Throws<LlamaMoeException>(() => reader.Read(0, MlpProjection.Up));
        Assert.That(ex!.Code, Is.EqualTo(ConstructionPluginErrors.WeightShape));
    }

    [Test]
    public void OpeningReadsTheShapeFromConfigWithoutTheCheckpoint()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Path, layers: 2, hidden: 16, intermediate: 24);
        File.Delete(temp.Combine("model.safetensors"));

        using var reader = new SafetensorsMlpWeightSource().Open(temp.Path);

        Assert.That(reader.Shape, Is.EqualTo(new MlpShape(2, 16, 24)));
    }
}
