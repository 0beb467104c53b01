using LlamaMoe.Modeling.Config;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Config;

public sealed class LlamaConfigJsonTests
{
    private const string Llama32 = """
        {
          "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
          "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
          "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
          "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
          "pretraining_tp": 1, "rms_norm_eps": 1e-05,
          "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
          "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
          "use_cache": true, "vocab_size": 128256
        }
        """;

    [Test]
    public void Llama32ConfigIsReadWithGqaRopeScalingAndEosList()
    {
        var config = LlamaConfigJson.Parse(Llama32);
        Assert.That(config.NumKeyValueHeads, Is.EqualTo(8));
        Assert.That(config.HeadDim, Is.EqualTo(64));
        Assert.That(config.RopeScaling, Is.EqualTo(new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192)));
        Assert.That(config.EosTokenIds, Is.EqualTo(new[] { 128001, 128008, 128009 }));
        Assert.That(config.TieWordEmbeddings, Is.True);
        Assert.That(config.ExtraProperties.Keys, Does.Contain("transformers_version"));
    }

    [Test]
    public void ConfigRoundTripsIncludingHarmlessKeys()
    {
        var config = LlamaConfigJson.Parse(Llama32);
        var again = LlamaConfigJson.Parse(LlamaConfigJson.ToJson(config));
        Assert.That(LlamaConfigJson.ToJson(again), Is.EqualTo(LlamaConfigJson.ToJson(config)));
        Assert.That(again.ExtraProperties["transformers_version"]!.GetValue<string>(), Is.EqualTo("4.45.0.dev0"));
        Assert.That(again.RopeScaling, Is.EqualTo(config.RopeScaling));
    }

    [Test]
    public void UnknownKeyIsRefusedUnlessAllowed()
    {
        var json = Llama32.Replace("\"use_cache\": true", "\"num_local_experts\": 8", StringComparison.Ordinal);
        Assert.That(Assert.Throws<LlamaMoeException>(() => LlamaConfigJson.Parse(json))!.Code, Is.EqualTo(ConfigErrorCodes.UnknownKey));
        var extended = LlamaConfigJson.Parse(json, additionalAllowedKeys: new HashSet<string> { "num_local_experts" });
        Assert.That(extended.ExtraProperties["num_local_experts"]!.GetValue<int>(), Is.EqualTo(8));
    }

    [Test]
    public void DuplicateKeyIsRefused() =>
        Assert.That(Assert.Throws<LlamaMoeException>(() => LlamaConfigJson.Parse("""{"hidden_size": 64, "hidden_size": 128}"""))!.Code, Is.EqualTo(ConfigErrorCodes.Malformed));

    [TestCase("""{"hidden_size": 64, "num_attention_heads": 8, "num_key_value_heads": 3, "intermediate_size": 8, "num_hidden_layers": 1, "vocab_size": 10}""", "num_key_value_heads")]
    [TestCase("""{"hidden_size": 60, "num_attention_heads": 8, "intermediate_size": 8, "num_hidden_layers": 1, "vocab_size": 10}""", "hidden_size")]
    [TestCase("""{"hidden_size": 64, "num_attention_heads": 8, "intermediate_size": 8, "num_hidden_layers": 1, "vocab_size": 10, "bos_token_id": 10}""", "bos_token_id")]
    public void ContradictoryKeysAreRefused(string json, string key)
    {
        var ex = Assert.Throws<LlamaMoeException>(() => LlamaConfigJson.Parse(json));
        Assert.That(ex!.Code, Is.EqualTo(ConfigErrorCodes.Contradiction));
        Assert.That(ex.Key, Is.EqualTo(key));
    }

    [Test]
    public void WrongTypeIsRefused() =>
        Assert.That(Assert.Throws<LlamaMoeException>(() => LlamaConfigJson.Parse("""{"hidden_size": "big"}"""))!.Code, Is.EqualTo(ConfigErrorCodes.InvalidValue));

    [Test]
    public void UnsupportedRopeTypeIsRefused() =>
        Assert.That(Assert.Throws<LlamaMoeException>(() => LlamaConfigJson.Parse("""{"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"""))!.Code,
            Is.EqualTo(ConfigErrorCodes.Unsupported));

    [Test]
    public void LinearRopeScalingIsAccepted() =>
        Assert.That(LlamaConfigJson.Parse("""{"rope_scaling": {"type": "linear", "factor": 2.0}}""").RopeScaling!.Type, Is.EqualTo("linear"));
}
