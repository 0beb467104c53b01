using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.MoeModel;

public sealed class NativeFormatTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void LoadThenSaveReproducesEveryTensorBitwiseAndTheConfig()
    {
        using var work = new TempDirectory("native-roundtrip");
        var config = ConversionFixture.RandomLlama3(layers: 3);
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 7);
        var options = new ConstructionOptions(3, 2, "random", ResidualExperts: 1, ContractLast: 1, Seed: 5);
        var moe = ConversionFixture.Convert(dense, work.Combine("moe"), options, []);
        using (var model = CausalLanguageModelLoader.Load(moe))
        {
            CausalLanguageModelLoader.Save(model, work.Combine("again"), companionSource: moe);
        }

        using var first = ShardedCheckpoint.Open(moe);
        using var second = ShardedCheckpoint.Open(work.Combine("again"));
        Assert.That(second.Names.Order(), Is.EqualTo(first.Names.Order()));
        Assert.That(first.Names, Does.Contain("model.layers.0.block_sparse_moe.mlp_residual.w2.weight"));
        Assert.That(first.Names, Does.Contain("model.layers.2.mlp.down_proj.weight"));
        foreach (var name in first.Names)
        {
            using var a = first.Read(name);
            using var b = second.Read(name);
            Assert.That(b.dtype, Is.EqualTo(a.dtype), name);
            Assert.That(a.bytes.SequenceEqual(b.bytes), Is.True, name);
        }

        var original = MoeConfig.Read(Path.Combine(moe, "config.json"));
        var saved = MoeConfig.Read(Path.Combine(work.Combine("again"), "config.json"));
        Assert.That(saved.ToJson(), Is.EqualTo(original.ToJson()));
        Assert.That(original.MoeLayers, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(original.ResidualSize, Is.EqualTo(12), "48 neurons into 3 routed + 1 residual share");
        Assert.That(original.ScaleFactors, Is.All.EqualTo(1.0), "default with a residual expert");
    }

    [Test]
    public void ConfigJsonCarriesTheContractKeys()
    {
        using var work = new TempDirectory("native-keys");
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), ConversionFixture.RandomLlama3(), seed: 1);
        var moe = ConversionFixture.Convert(dense, work.Combine("moe"), new ConstructionOptions(4, 2, "sequential"), []);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(moe, "config.json")))!.AsObject();
        Assert.That((string?)json["model_type"], Is.EqualTo("llamamoe"));
        Assert.That(json["architectures"]!.ToJsonString(), Is.EqualTo("[\"LlamaMoeForCausalLM\"]"));
        Assert.That((int)json["num_local_experts"]!, Is.EqualTo(4));
        Assert.That((int)json["num_experts_per_tok"]!, Is.EqualTo(2));
        Assert.That((int)json["intermediate_size"]!, Is.EqualTo(48), "dense width");
        Assert.That(json["expert_sizes"]!.ToJsonString(), Is.EqualTo("[[12,12,12,12],[12,12,12,12]]"));
        Assert.That((double)json["scale_factor"]!, Is.EqualTo(2.0));
        Assert.That(json["router"]!.ToJsonString(), Is.EqualTo("{\"network\":\"linear\",\"weights\":\"softmax_renormalized\",\"noisy\":false}"));
        Assert.That(json["attention_moe"], Is.Null);
        Assert.That((int)json["llamamoe_format_version"]!, Is.EqualTo(1));
        Assert.That(Directory.GetDirectories(work.Path).Select(Path.GetFileName), Is.EquivalentTo(new[] { "dense", "moe" }), "no temp directory left");
    }

    public static IEnumerable<TestCaseData> BadConfigs()
    {
        yield return new TestCaseData("num_experts_per_tok", (JsonNode?)5, "LMOE2202").SetName("TopKAboveExperts");
        yield return new TestCaseData("moe_layers", (JsonNode?)new JsonArray(1, 0), "LMOE2202").SetName("LayersNotAscending");
        yield return new TestCaseData("moe_layers", (JsonNode?)new JsonArray(0, 7), "LMOE2202").SetName("LayerOutOfRange");
        yield return new TestCaseData("expert_sizes", (JsonNode?)new JsonArray(new JsonArray(12, 12, 12, 12)), "LMOE2202").SetName("SizesPerLayerMissing");
        yield return new TestCaseData("scale_factor", (JsonNode?)new JsonArray(1.0, 2.0, 3.0), "LMOE2202").SetName("ScaleListLength");
        yield return new TestCaseData("num_local_experts", (JsonNode?)"four", "LMOE2201").SetName("ExpertsNotAnInteger");
        yield return new TestCaseData("router", (JsonNode?)new JsonObject { ["network"] = "linear", ["weights"] = "argmax" }, "LMOE2203").SetName("UnknownRoutingWeights");
        yield return new TestCaseData("llamamoe_format_version", (JsonNode?)2, "LMOE2204").SetName("FutureFormatVersion");
        yield return new TestCaseData("num_local_experts", null, "LMOE2201").SetName("ExpertsMissing");
        yield return new TestCaseData("moe_bogus_key", (JsonNode?)1, "LMOE2003").SetName("UnknownKey");
    }

    [TestCaseSource(nameof(BadConfigs))]
    public void InvalidMoeConfigsAreRefusedWithACode(string key, JsonNode? value, string code)
    {
        var json = ValidJson();
        if (value is null)
        {
            json.Remove(key);
        }
        else
        {
            json[key] = value;
        }

        var error = Assert.Throws<LlamaMoeException>(() => MoeConfig.Parse(json.ToJsonString(), "config.json"))!;
        Assert.That(error.Code, Is.EqualTo(code), error.Message);
        Assert.That(error.FilePath, Is.EqualTo("config.json"));
    }

    [Test]
    public void AValidConfigParsesWithPerLayerScaleFactors()
    {
        var json = ValidJson();
        json["scale_factor"] = new JsonArray(1.5, 2.5);
        var config = MoeConfig.Parse(json.ToJsonString());
        Assert.That(config.ScaleFactors, Is.EqualTo(new[] { 1.5, 2.5 }));
        Assert.That(config.BlockOptions(1).ScaleFactor, Is.EqualTo(2.5));
        Assert.That(MoeConfig.Parse(config.ToJson()).ToJson(), Is.EqualTo(config.ToJson()));
    }

    [Test]
    public void LoaderRefusesAnUnknownModelType()
    {
        using var work = new TempDirectory("unknown-type");
        File.WriteAllText(work.Combine("config.json"), "{\"model_type\": \"gpt2\"}");
        var error = Assert.Throws<LlamaMoeException>(() => CausalLanguageModelLoader.Load(work.Path))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2205"));
    }

    private static JsonObject ValidJson()
    {
        var config = new MoeConfig
        {
            Dense = ConversionFixture.RandomLlama3(),
            ExpertCount = 4,
            TopK = 2,
            MoeLayers = [0, 1],
            ExpertSizes = [[12, 12, 12, 12], [12, 12, 12, 12]],
            ScaleFactors = [2.0, 2.0],
        }.Validate();
        return JsonNode.Parse(config.ToJson())!.AsObject();
    }
}
