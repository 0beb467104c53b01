using System.Text.Json.Nodes;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>The <c>attention_moe</c> config object, its validation codes and the command-line helper.</summary>
public sealed class AttentionMoeOptionsTests
{
    [Test]
    public void JsonRoundTripsAndOmitsTheDefaultWeights()
    {
        var options = new AttentionMoeOptions(8, 7, 1.5, 2, [0, 3, 5]);
        var json = AttentionMoeOptionsJson.Write(options)!.ToJsonString();
        Assert.That(json, Is.EqualTo("{\"num_experts\":8,\"top_k\":7,\"scale_factor\":1.5,\"split\":2,\"layers\":[0,3,5]}"));
        Assert.That(AttentionMoeOptionsJson.Read(JsonNode.Parse(json)), Is.EqualTo(options));

        var unit = options with { Weights = RoutingWeights.Unit };
        Assert.That(AttentionMoeOptionsJson.Read(JsonNode.Parse(AttentionMoeOptionsJson.Write(unit)!.ToJsonString())), Is.EqualTo(unit));
        Assert.That(AttentionMoeOptionsJson.Read(null), Is.Null);
    }

    [Test]
    public void ConfigCarriesTheOptionsThroughItsExtraKey()
    {
        var config = Gqa();
        var options = AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 2);
        var withOptions = AttentionMoeOptionsJson.WithOptions(config, options);
        Assert.That(AttentionMoeOptionsJson.FromConfig(withOptions), Is.EqualTo(options));
        Assert.That(AttentionMoeOptionsJson.FromConfig(config), Is.Null);
    }

    [TestCase("[1]", "attention_moe")]
    [TestCase("{\"num_experts\":2,\"top_k\":1,\"scale_factor\":1,\"split\":1,\"layers\":[0],\"extra\":1}", "attention_moe.extra")]
    [TestCase("{\"num_experts\":2,\"top_k\":1,\"scale_factor\":1,\"split\":1}", "attention_moe.layers")]
    [TestCase("{\"num_experts\":2.5,\"top_k\":1,\"scale_factor\":1,\"split\":1,\"layers\":[0]}", "attention_moe.num_experts")]
    [TestCase("{\"num_experts\":2,\"top_k\":\"1\",\"scale_factor\":1,\"split\":1,\"layers\":[0]}", "attention_moe.top_k")]
    [TestCase("{\"num_experts\":2,\"top_k\":1,\"scale_factor\":1,\"split\":1,\"layers\":[-1]}", "attention_moe.layers")]
    [TestCase("{\"num_experts\":2,\"top_k\":1,\"scale_factor\":1,\"split\":1,\"layers\":[0],\"weights\":\"max\"}", "attention_moe.weights")]
    public void MalformedObjectsAreLmoe2303(string json, string key)
    {
        var error = Assert.Throws<LlamaMoeException>(() => AttentionMoeOptionsJson.Read(JsonNode.Parse(json), "config.json"));
        Assert.That(error!.Code, Is.EqualTo("LMOE2303"));
        Assert.That(error.Key, Is.EqualTo(key));
        Assert.That(error.FilePath, Is.EqualTo("config.json"));
    }

    [TestCase(0, 1, 1.0, 1, new[] { 0 }, "attention_moe.num_experts")]
    [TestCase(4, 5, 1.0, 1, new[] { 0 }, "attention_moe.top_k")]
    [TestCase(4, 0, 1.0, 1, new[] { 0 }, "attention_moe.top_k")]
    [TestCase(4, 2, 0.0, 1, new[] { 0 }, "attention_moe.scale_factor")]
    [TestCase(4, 2, double.NaN, 1, new[] { 0 }, "attention_moe.scale_factor")]
    [TestCase(4, 2, 1.0, 0, new[] { 0 }, "attention_moe.split")]
    [TestCase(4, 2, 1.0, 2, new[] { 1, 1 }, "attention_moe.layers")]
    [TestCase(4, 2, 1.0, 2, new int[0], "attention_moe.layers")]
    public void OutOfRangeValuesAreLmoe2301(int experts, int topK, double scale, int split, int[] layers, string key)
    {
        var error = Assert.Throws<LlamaMoeException>(() => new AttentionMoeOptions(experts, topK, scale, split, layers).Validate());
        Assert.That(error!.Code, Is.EqualTo("LMOE2301"));
        Assert.That(error.Key, Is.EqualTo(key));
    }

    [TestCase(4, 1, new[] { 0 }, "attention_moe.num_experts")]  // 2 KV heads × split 1 = 2, not 4
    [TestCase(6, 3, new[] { 0 }, "attention_moe.split")]        // 3 does not divide G = 4
    [TestCase(2, 1, new[] { 2 }, "attention_moe.layers")]       // the model has 2 layers
    public void OptionsThatDoNotFitTheModelAreLmoe2302(int experts, int split, int[] layers, string key)
    {
        var error = Assert.Throws<LlamaMoeException>(() => new AttentionMoeOptions(experts, 1, 1.0, split, layers).Validate(Gqa()));
        Assert.That(error!.Code, Is.EqualTo("LMOE2302"));
        Assert.That(error.Key, Is.EqualTo(key));
    }

    [Test]
    public void CommandLineDerivesTheSplitAndDefaults()
    {
        var options = AttentionMoeConversion.OptionsFromCommandLine(Gqa(), experts: 4, topK: 3);
        Assert.That(options, Is.EqualTo(new AttentionMoeOptions(4, 3, 1.0, 2, [0, 1])));
        var explicitSplit = AttentionMoeConversion.OptionsFromCommandLine(Gqa(), experts: 8, topK: 7, split: 4, scaleFactor: 2.0, layers: [1]);
        Assert.That(explicitSplit, Is.EqualTo(new AttentionMoeOptions(8, 7, 2.0, 4, [1])));
    }

    [TestCase(3, null, "--attention-experts")]
    [TestCase(4, 1, "--attention-split")]
    public void ContradictoryCommandLinesAreLmoe2305(int experts, int? split, string key)
    {
        var error = Assert.Throws<LlamaMoeException>(() => AttentionMoeConversion.OptionsFromCommandLine(Gqa(), experts, topK: 1, split: split));
        Assert.That(error!.Code, Is.EqualTo("LMOE2305"));
        Assert.That(error.Key, Is.EqualTo(key));
    }

    [Test]
    public void PartitionGivesEachSplitExpertItsQueryHeadsAndTheGroupsKvHead()
    {
        var partition = AttentionExpertPartition.FromConfig(Gqa(), split: 2);
        Assert.That(partition.ExpertCount, Is.EqualTo(4));
        Assert.That(partition.Experts.Select(e => e.QueryHeads), Is.EqualTo(new[] { new[] { 0, 1 }, new[] { 2, 3 }, new[] { 4, 5 }, new[] { 6, 7 } }));
        Assert.That(partition.Experts.Select(e => e.KeyValueHead), Is.EqualTo(new[] { 0, 0, 1, 1 }));
        Assert.That(partition.QueryRows(1), Is.EqualTo(Enumerable.Range(16, 16).Select(r => (long)r)));
        Assert.That(partition.KeyValueRows(3), Is.EqualTo(Enumerable.Range(8, 8).Select(r => (long)r)));
        Assert.That(Assert.Throws<LlamaMoeException>(() => AttentionExpertPartition.FromConfig(Gqa(), split: 3))!.Code, Is.EqualTo("LMOE2302"));
    }
}
