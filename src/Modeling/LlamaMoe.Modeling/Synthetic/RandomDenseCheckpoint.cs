using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Synthetic;

/// <summary>
/// Writes a dense LLaMA directory with random weights of any size (for example 8B layer shapes) tensor by tensor,
/// never holding more than one tensor: for conversion benchmarks and memory tests.
/// </summary>
public static class RandomDenseCheckpoint
{
    /// <summary>Writes config.json and the weights of <paramref name="config"/> (dtype from its torch_dtype) into <paramref name="directory"/>.</summary>
    public static void Write(string directory, LlamaConfig config, long seed, long maxShardBytes = 5L << 30)
    {
        var dtype = DtypeNames.Parse(config.TorchDtype);
        var generator = new Generator((ulong)seed);
        long h = config.HiddenSize, i = config.IntermediateSize, q = config.QueryWidth, kv = config.KeyValueWidth, v = config.VocabSize;
        var tensors = new List<StreamedTensor> { Random(DenseTensorNames.Embedding, [v, h]) };
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string P(string relative) => DenseTensorNames.InLayer(layer, relative);
            tensors.Add(Random(P("self_attn.q_proj.weight"), [q, h]));
            tensors.Add(Random(P("self_attn.k_proj.weight"), [kv, h]));
            tensors.Add(Random(P("self_attn.v_proj.weight"), [kv, h]));
            tensors.Add(Random(P("self_attn.o_proj.weight"), [h, q]));
            tensors.Add(Random(P("mlp.gate_proj.weight"), [i, h]));
            tensors.Add(Random(P("mlp.up_proj.weight"), [i, h]));
            tensors.Add(Random(P("mlp.down_proj.weight"), [h, i]));
            tensors.Add(Ones(P("input_layernorm.weight"), [h]));
            tensors.Add(Ones(P("post_attention_layernorm.weight"), [h]));
        }

        tensors.Add(Ones(DenseTensorNames.FinalNorm, [h]));
        if (!config.TieWordEmbeddings)
        {
            tensors.Add(Random(DenseTensorNames.LmHead, [v, h]));
        }

        StreamingCheckpointWriter.Write(directory, tensors, maxShardBytes);
        LlamaConfigJson.Write(config, Path.Combine(directory, ModelDirectory.ConfigFileName));

        StreamedTensor Random(string name, long[] shape) =>
            new(name, dtype, shape, () => randn(shape, generator: generator).mul_(0.02).to(dtype));

        StreamedTensor Ones(string name, long[] shape) =>
            new(name, dtype, shape, () => ones(shape, dtype: dtype));
    }
}
