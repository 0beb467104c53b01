using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

/// <summary>Writes a tiny random dense Hugging Face LLaMA directory (config.json + model.safetensors).</summary>
internal static class TinyDenseModel
{
    public static LlamaConfig Config(int layers = 2, int hidden = 16, int intermediate = 24) => new()
    {
        VocabSize = 32,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-5,
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    /// <summary>Writes the model; returns its config.</summary>
    public static LlamaConfig Write(string directory, int layers = 2, int hidden = 16, int intermediate = 24, int seed = 7)
    {
        TorchRuntime.EnsureLoaded();
        var config = Config(layers, hidden, intermediate);
        Directory.CreateDirectory(directory);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        Tensor Random(params long[] shape) => randn(shape, generator: generator).mul_(0.2f);
        var tensors = new List<KeyValuePair<string, Tensor>> { new("model.embed_tokens.weight", Random(config.VocabSize, hidden)) };
        for (var i = 0; i < layers; i++)
        {
            var p = $"model.layers.{i}.";
            tensors.Add(new(p + "self_attn.q_proj.weight", Random(config.QueryWidth, hidden)));
            tensors.Add(new(p + "self_attn.k_proj.weight", Random(config.KeyValueWidth, hidden)));
            tensors.Add(new(p + "self_attn.v_proj.weight", Random(config.KeyValueWidth, hidden)));
            tensors.Add(new(p + "self_attn.o_proj.weight", Random(hidden, config.QueryWidth)));
            tensors.Add(new(p + "mlp.gate_proj.weight", Random(intermediate, hidden)));
            tensors.Add(new(p + "mlp.up_proj.weight", Random(intermediate, hidden)));
            tensors.Add(new(p + "mlp.down_proj.weight", Random(hidden, intermediate)));
            tensors.Add(new(p + "input_layernorm.weight", ones(hidden)));
            tensors.Add(new(p + "post_attention_layernorm.weight", ones(hidden)));
        }

        tensors.Add(new("model.norm.weight", ones(hidden)));
        tensors.Add(new("lm_head.weight", Random(config.VocabSize, hidden)));
        SafetensorsWriter.Write(Path.Combine(directory, ShardedCheckpoint.SingleFileName), tensors);
        LlamaConfigJson.Write(config, Path.Combine(directory, ModelDirectory.ConfigFileName));
        return config;
    }
}
