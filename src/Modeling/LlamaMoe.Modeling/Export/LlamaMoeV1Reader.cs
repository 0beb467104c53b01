using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Reads a LLaMA-MoE v1 checkpoint (model_type <c>llama_moe</c>, spec §6.1; safetensors weights) into the native layout.
/// Keys are taken verbatim: <c>mlp.gate.gate_network.{0,2}.weight</c> (tanh MLP router) or <c>mlp.gate.gate_network.weight</c>
/// (linear), <c>mlp.gate.weight_noise.weight</c>, <c>mlp.calculator.experts.weight_{gate,up,down}.{j}</c>; every layer is MoE,
/// routing is softmax over the top-k logits times <c>score_scale_factor</c>.
/// </summary>
public static class LlamaMoeV1Reader
{
    /// <summary>The v1 config keys beyond the LLaMA keys.</summary>
    public static IReadOnlySet<string> ExtensionKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "num_experts", "num_selects", "size_experts", "gate_type", "gate_network", "gate_use_softmax", "gate_use_balance", "gate_balance_loss_weight",
        "gate_add_noise", "gate_noise_epsilon", "calculator_type", "multiply_gate_scores", "score_scale_factor", "add_weight_norm", "drop_tokens",
        "dropped_padding", "capacity_factor", "gates",
    };

    /// <summary>Opens the directory in the native layout (tensors are read when used).</summary>
    public static MoeCheckpoint Read(string directory) =>
        CheckpointTensors.Open(directory, ReadConfig(directory), name => name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)
            ? null // old .bin exports carry the RoPE buffer; it is recomputed
            : (ToNativeName(name), 1.0));

    /// <summary>
    /// The native config of a v1 directory: config.json plus the expert sizes from the weight headers (no tensor is read).
    /// LMOE1220 for bad keys, LMOE1221 for a missing expert weight, LMOE1222 for an unsupported variant.
    /// </summary>
    public static MoeConfig ReadConfig(string directory)
    {
        var (dense, keys) = MoeConfigJson.ReadConverted(directory, ExtensionKeys, "llama_moe");
        void Require(bool ok, string key, string what)
        {
            if (!ok)
            {
                throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, $"LLaMA-MoE v1 variant not supported: {what}", keys.FilePath, key,
                    "Only the released variant (TopKBalancedNoisyGate, UniversalCalculator, softmax gate scores, no weight norm) is read.");
            }
        }

        Require((keys.String("gate_type") ?? "TopKBalancedNoisyGate") == "TopKBalancedNoisyGate", "gate_type", "gate_type must be TopKBalancedNoisyGate");
        Require((keys.String("calculator_type") ?? "UniversalCalculator") == "UniversalCalculator", "calculator_type", "calculator_type must be UniversalCalculator");
        Require(keys.Bool("gate_use_softmax", true), "gate_use_softmax", "gate_use_softmax must be true");
        Require(keys.Bool("multiply_gate_scores", true), "multiply_gate_scores", "multiply_gate_scores must be true");
        Require(!keys.Bool("add_weight_norm", false), "add_weight_norm", "add_weight_norm must be false");
        var network = (keys.String("gate_network") ?? "mlp") switch
        {
            "mlp" => RouterNetwork.TanhMlp,
            "linear" => RouterNetwork.Linear,
            var other => throw keys.Error("gate_network", $"is '{other}' (mlp or linear)"),
        };

        var experts = keys.Int("num_experts");
        var layers = dense.NumHiddenLayers;
        IReadOnlyList<int>[] sizes;
        using (var checkpoint = ShardedCheckpoint.Open(directory))
        {
            sizes = Enumerable.Range(0, layers).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, experts)
                .Select(j => DenseTensorNames.InLayer(i, $"mlp.calculator.experts.weight_gate.{j}"))
                .Select(name => checkpoint.Contains(name) ? (int)checkpoint.Info(name).Shape[0] : throw MoeCheckpoint.Mismatch(name, "is missing")).ToArray()).ToArray();
        }

        if (keys.Node("size_experts") is JsonArray declared
            && !declared.Select((list, i) => keys.IntArray(list ?? throw keys.Wrong($"size_experts[{i}]", "a list of integers"), $"size_experts[{i}]")).SelectMany(x => x).SequenceEqual(sizes.SelectMany(x => x)))
        {
            throw keys.Error("size_experts", "disagrees with the expert weight shapes");
        }

        return keys.Validated(new MoeConfig
        {
            Dense = dense with { IntermediateSize = sizes.Max(s => s.Sum()), ExtraProperties = new Dictionary<string, JsonNode?>() },
            ExpertCount = experts,
            TopK = keys.Int("num_selects"),
            MoeLayers = Enumerable.Range(0, layers).ToArray(),
            ExpertSizes = sizes,
            ScaleFactors = keys.NumberOrList("score_scale_factor", layers, 4.0),
            Router = new MoeRouterSpec(network, RoutingWeights.SoftmaxOverTopK, keys.Bool("gate_add_noise", true)),
        });
    }

    /// <summary>v1 → native tensor name (names outside the MLP are unchanged).</summary>
    public static string ToNativeName(string v1Name)
    {
        var layer = DenseTensorNames.LayerOf(v1Name);
        if (layer < 0)
        {
            return v1Name;
        }

        var prefix = DenseTensorNames.InLayer(layer, "mlp.");
        if (!v1Name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return v1Name;
        }

        var rest = v1Name[prefix.Length..];
        var block = MoeTensorNames.Block(layer);
        const string experts = "calculator.experts.";
        if (rest.StartsWith(experts, StringComparison.Ordinal))
        {
            var parts = rest[experts.Length..].Split('.');
            var w = parts[0] switch { "weight_gate" => "w1", "weight_up" => "w3", "weight_down" => "w2", _ => null };
            if (w is not null && parts.Length == 2 && int.TryParse(parts[1], out var j))
            {
                return MoeTensorNames.Expert(layer, j, w);
            }
        }

        return rest switch
        {
            "gate.gate_network.weight" => MoeTensorNames.Router(layer),
            "gate.gate_network.0.weight" or "gate.gate_network.2.weight" or "gate.weight_noise.weight" => $"{block}.{rest}",
            _ => v1Name,
        };
    }
}
