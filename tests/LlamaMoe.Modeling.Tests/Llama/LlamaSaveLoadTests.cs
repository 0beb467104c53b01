using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Llama;

public sealed class LlamaSaveLoadTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void ParameterNamesAreExactlyHuggingFaces()
    {
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        var names = model.state_dict().Keys.ToList();
        Assert.That(names, Does.Contain("model.embed_tokens.weight"));
        Assert.That(names, Does.Contain("model.layers.1.self_attn.k_proj.weight"));
        Assert.That(names, Does.Contain("model.layers.0.mlp.down_proj.weight"));
        Assert.That(names, Does.Contain("model.layers.0.post_attention_layernorm.weight"));
        Assert.That(names, Does.Contain("model.norm.weight"));
        Assert.That(names, Does.Contain("lm_head.weight"));
        Assert.That(names, Has.Count.EqualTo(1 + (2 * 9) + 1 + 1));
        Assert.That(model.state_dict()["model.layers.0.self_attn.k_proj.weight"].shape, Is.EqualTo(new long[] { 16, 32 }));
    }

    [Test]
    public void Bf16Llama3ModelSavesAndLoadsBitwise()
    {
        torch.manual_seed(7);
        using var dir = new TempDirectory();
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        model.to(ScalarType.BFloat16);
        model.SaveDirectory(dir.Path);
        using var loaded = LlamaForCausalLM.FromDirectory(dir.Path);
        AssertBitwiseEqual(model, loaded);
        Assert.That(loaded.Config with { ExtraProperties = model.Config.ExtraProperties }, Is.EqualTo(model.Config).Using<LlamaConfig>(SameArchitecture));
        Assert.That(loaded.LmHeadWeight.dtype, Is.EqualTo(ScalarType.BFloat16));
        using var ids = torch.tensor(new long[] { 0, 5, 9, 33, 70 }).unsqueeze(0);
        using var a = model.forward(ids);
        using var b = loaded.forward(ids);
        Assert.That(a.bytes.SequenceEqual(b.bytes), Is.True, "same logits");
    }

    [Test]
    public void ShardedSaveWritesAnIndexAndLoadsBitwise()
    {
        torch.manual_seed(8);
        using var dir = new TempDirectory();
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        model.to(ScalarType.BFloat16);
        model.SaveDirectory(dir.Path, maxShardBytes: 8 * 1024);
        var shards = Directory.GetFiles(dir.Path, "model-*-of-*.safetensors");
        Assert.That(shards, Has.Length.GreaterThan(1));
        Assert.That(File.Exists(dir.Combine(ShardedCheckpoint.IndexFileName)), Is.True);
        Assert.That(File.Exists(dir.Combine(ShardedCheckpoint.SingleFileName)), Is.False);
        foreach (var shard in shards)
        {
            Assert.That(new FileInfo(shard).Length, Is.LessThan(8 * 1024 + 4096));
        }

        using var loaded = LlamaForCausalLM.FromDirectory(dir.Path);
        AssertBitwiseEqual(model, loaded);
    }

    [Test]
    public void MissingTensorIsACodedError()
    {
        using var dir = new TempDirectory();
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        model.SaveDirectory(dir.Path);
        var tied = TinyLlamaFactory.Llama3Style() with { TieWordEmbeddings = true };
        LlamaConfigJson.Write(tied, dir.Combine("config.json"));
        var ex = Assert.Throws<LlamaMoeException>(() => LlamaForCausalLM.FromDirectory(dir.Path));
        Assert.That(ex!.Code, Is.EqualTo("LMOE2011"));
        Assert.That(ex.Key, Is.EqualTo("lm_head.weight"));
    }

    private static bool SameArchitecture(LlamaConfig a, LlamaConfig b) =>
        a.HiddenSize == b.HiddenSize && a.NumKeyValueHeads == b.NumKeyValueHeads && a.RopeScaling == b.RopeScaling && a.TieWordEmbeddings == b.TieWordEmbeddings
        && a.EosTokenIds.SequenceEqual(b.EosTokenIds) && a.TorchDtype == b.TorchDtype && a.RopeTheta == b.RopeTheta;

    private static void AssertBitwiseEqual(nn.Module expected, nn.Module actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (name, tensor) in a)
        {
            Assert.That(b[name].dtype, Is.EqualTo(tensor.dtype), name);
            Assert.That(b[name].bytes.SequenceEqual(tensor.bytes), Is.True, name);
        }
    }
}
