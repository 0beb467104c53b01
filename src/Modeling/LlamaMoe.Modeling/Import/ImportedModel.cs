using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Config;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Import;

/// <summary>A model read by an importer: its config and its tensors under Hugging Face names, in Hugging Face order.</summary>
/// <param name="Config">The architecture.</param>
/// <param name="Tensors">The tensors (owned; disposed with this object).</param>
public sealed record ImportedModel(LlamaConfig Config, IReadOnlyList<KeyValuePair<string, Tensor>> Tensors) : IDisposable
{
    /// <summary>Writes config.json, generation_config.json and model.safetensors into <paramref name="directory"/>.</summary>
    public void Save(string directory, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        ModelDirectory.SaveWeights(directory, Tensors, maxShardBytes);
        ModelDirectory.WriteGenerationConfig(directory, Config.BosTokenId, Config.EosTokenIds);
        LlamaConfigJson.Write(Config, Path.Combine(directory, ModelDirectory.ConfigFileName));
    }

    /// <summary>Orders tensors as Hugging Face's LlamaForCausalLM state dict.</summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> InHfOrder(Dictionary<string, Tensor> tensors, LlamaConfig config)
    {
        var names = new List<string> { "model.embed_tokens.weight" };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            names.AddRange(new[]
            {
                "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight",
            }.Select(s => $"model.layers.{i}.{s}"));
        }

        names.Add("model.norm.weight");
        if (!config.TieWordEmbeddings)
        {
            names.Add("lm_head.weight");
        }

        return names.Select(n => new KeyValuePair<string, Tensor>(n, tensors[n])).ToList();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, t) in Tensors)
        {
            t.Dispose();
        }
    }
}
