using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats;

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
        var names = new List<string> { DenseTensorNames.Embedding };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            names.AddRange(DenseTensorNames.LayerTensors.Select(relative => DenseTensorNames.InLayer(i, relative)));
        }

        names.Add(DenseTensorNames.FinalNorm);
        if (!config.TieWordEmbeddings)
        {
            names.Add(DenseTensorNames.LmHead);
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
