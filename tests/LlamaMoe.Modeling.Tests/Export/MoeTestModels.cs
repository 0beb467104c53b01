using System.Text.Json.Nodes;
using LlamaMoe.Construction;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Tensors;
using LlamaMoe.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>Builds small MoE models from the dense stories260K for the export tests.</summary>
internal static class MoeTestModels
{
    /// <summary>Imports stories260K.bin (with tok512.model) into <paramref name="directory"/>.</summary>
    public static string ImportStories(string directory)
    {
        ModelImporter.Import(SharedData.Stories260KBin, directory, SharedData.Tok512Model);
        return directory;
    }

    /// <summary>
    /// An MoE copy of <paramref name="dense"/>: layers in <paramref name="moeLayers"/> (all when null) get E experts from a
    /// sequential split (after <paramref name="residual"/> leading neurons kept as the residual expert) and a seeded random router.
    /// </summary>
    public static LlamaForCausalLM FromDense(LlamaForCausalLM dense, int experts, int topK, double scale, int residual = 0, int[]? moeLayers = null,
        RouterNetwork router = RouterNetwork.Linear, RoutingWeights weights = RoutingWeights.SoftmaxRenormalized, bool noisy = false, long seed = 7)
    {
        var config = dense.Config;
        var neurons = config.IntermediateSize;
        var routed = neurons - residual;
        var sequential = SimpleSplits.Sequential(routed, experts);
        var partition = new ExpertPartition(neurons, sequential.Experts.Select(e => e.Select(n => n + residual).ToArray()).ToArray(),
            residual > 0 ? Enumerable.Range(0, residual).ToArray() : null, false);
        var isMoe = (int layer) => moeLayers?.Contains(layer) ?? true;
        var options = ExpertSlicer.OptionsFor(partition, config.HiddenSize, topK, scale, new SparseMoeBlockOptions(config.HiddenSize, partition.ExpertSizes, topK, Router: router, Weights: weights, NoisyGate: noisy));
        var model = new LlamaForCausalLM(config, new LlamaBlockFactories(FeedForward: (i, c) => isMoe(i) ? new SparseMoeBlock(options) : new SwiGluMlp(c)));
        var denseState = dense.state_dict();
        var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (name, target) in model.state_dict())
            {
                if (denseState.TryGetValue(name, out var source))
                {
                    target.copy_(source);
                }
                else if (name.Contains(".gate.", StringComparison.Ordinal))
                {
                    target.copy_(randn(target.shape, generator: generator).mul(name.Contains("weight_noise", StringComparison.Ordinal) ? 0.0 : 0.5));
                }
            }

            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                if (model.Model.Layers[i].FeedForward is SparseMoeBlock block && dense.Model.Layers[i].FeedForward is SwiGluMlp mlp)
                {
                    ExpertSlicer.LoadDense(block, new DenseMlpWeights(mlp.GateProj.weight!, mlp.UpProj.weight!, mlp.DownProj.weight!), partition);
                }
            }
        }

        model.eval();
        return model;
    }

    /// <summary>
    /// Writes <paramref name="moe"/> (every layer MoE, tanh-MLP noisy router, softmax over the top-k) as a hand-built LLaMA-MoE v1
    /// directory (model_type llama_moe, v1 tensor names) and returns it.
    /// </summary>
    public static string WriteLlamaMoeV1(LlamaForCausalLM moe, string dir, int experts, int topK, int expertSize, double scale)
    {
        Directory.CreateDirectory(dir);
        var v1Tensors = StateDictLoader.NamedTensors(moe).Select(p => new KeyValuePair<string, Tensor>(ToV1(p.Key), p.Value)).ToList();
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), v1Tensors);
        var config = LlamaConfigJson.ToJsonObject(moe.Config with { ModelType = "llama_moe" });
        config["architectures"] = new JsonArray("LlamaMoEForCausalLM");
        config["num_experts"] = experts;
        config["num_selects"] = topK;
        config["size_experts"] = new JsonArray(Enumerable.Range(0, moe.Config.NumHiddenLayers).Select(_ => (JsonNode?)new JsonArray(Enumerable.Repeat(expertSize, experts).Select(m => (JsonNode?)m).ToArray())).ToArray());
        config["gate_type"] = "TopKBalancedNoisyGate";
        config["gate_network"] = "mlp";
        config["gate_use_softmax"] = true;
        config["gate_add_noise"] = true;
        config["gate_noise_epsilon"] = 0.01;
        config["calculator_type"] = "UniversalCalculator";
        config["multiply_gate_scores"] = true;
        config["score_scale_factor"] = scale;
        config["gates"] = "mlp";
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        return dir;
    }

    /// <summary>Logits (T, V) of <paramref name="model"/> for one sequence.</summary>
    public static float[,] Logits(LlamaForCausalLM model, IReadOnlyList<int> ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0); // (1, T)
        var logits = model.forward(input)[0].to_type(ScalarType.Float32).cpu();   // (T, V)
        var result = new float[logits.shape[0], logits.shape[1]];
        var data = logits.data<float>().ToArray();
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(float));
        return result;
    }

    /// <summary>The 32 test tokens: BOS then 31 ids spread over the 512-token vocabulary.</summary>
    public static int[] TestIds { get; } = TestIdsFor(512);

    /// <summary>BOS then 31 ids spread over a vocabulary of <paramref name="vocabulary"/> tokens (at most the first 503).</summary>
    public static int[] TestIdsFor(int vocabulary) => [1, .. Enumerable.Range(0, 31).Select(i => 3 + ((i * 37) % Math.Min(500, vocabulary - 3)))];

    private static string ToV1(string native)
    {
        var layer = DenseTensorNames.LayerOf(native);
        var block = layer >= 0 ? MoeTensorNames.Block(layer) + "." : null;
        if (block is null || !native.StartsWith(block, StringComparison.Ordinal))
        {
            return native;
        }

        var rest = native[block.Length..].Split('.');
        return rest[0] == "experts"
            ? $"model.layers.{layer}.mlp.calculator.experts.{(rest[2] switch { "w1" => "weight_gate", "w3" => "weight_up", _ => "weight_down" })}.{rest[1]}"
            : $"model.layers.{layer}.mlp.{string.Join('.', rest)}";
    }
}
