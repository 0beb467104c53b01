using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Moe;
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

    /// <summary>Reads the directory.</summary>
    public static MoeCheckpoint Read(string directory)
    {
        var (baseConfig, moe) = MoeJson.ReadConfig(directory, ExtensionKeys, "llama_moe");
        var configPath = Path.Combine(directory, ModelDirectory.ConfigFileName);
        void Require(bool ok, string key, string what)
        {
            if (!ok)
            {
                throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, $"LLaMA-MoE v1 variant not supported: {what}", configPath, key,
                    "Only the released variant (TopKBalancedNoisyGate, UniversalCalculator, softmax gate scores, no weight norm) is read.");
            }
        }

        Require((moe.String("gate_type") ?? "TopKBalancedNoisyGate") == "TopKBalancedNoisyGate", "gate_type", "gate_type must be TopKBalancedNoisyGate");
        Require((moe.String("calculator_type") ?? "UniversalCalculator") == "UniversalCalculator", "calculator_type", "calculator_type must be UniversalCalculator");
        Require(moe.Bool("gate_use_softmax", true), "gate_use_softmax", "gate_use_softmax must be true");
        Require(moe.Bool("multiply_gate_scores", true), "multiply_gate_scores", "multiply_gate_scores must be true");
        Require(!moe.Bool("add_weight_norm", false), "add_weight_norm", "add_weight_norm must be false");
        var network = (moe.String("gate_network") ?? "mlp") switch
        {
            "mlp" => RouterNetwork.TanhMlp,
            "linear" => RouterNetwork.Linear,
            var other => throw moe.Bad("gate_network", $"is '{other}' (mlp or linear)"),
        };

        var experts = moe.Int("num_experts");
        var layers = baseConfig.NumHiddenLayers;
        var tensors = CheckpointTensors.ReadAll(directory);
        try
        {
            var byName = tensors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var sizes = Enumerable.Range(0, layers).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, experts)
                .Select(j => byName.TryGetValue($"model.layers.{i}.mlp.calculator.experts.weight_gate.{j}", out var t) ? (int)t.shape[0]
                    : throw MoeCheckpoint.Mismatch($"model.layers.{i}.mlp.calculator.experts.weight_gate.{j}", "is missing")).ToArray()).ToArray();
            if (moe.Node("size_experts") is JsonArray declared && !declared.Select(l => l!.AsArray().Select(n => n!.GetValue<int>()).ToArray()).SelectMany(x => x).SequenceEqual(sizes.SelectMany(x => x)))
            {
                throw moe.Bad("size_experts", "disagrees with the expert weight shapes");
            }

            var scales = moe.Node("score_scale_factor") is JsonArray list
                ? list.Select(n => n!.GetValue<double>()).ToArray()
                : Enumerable.Repeat(moe.Double("score_scale_factor", 4.0), layers).ToArray();
            var layout = new MoeLayout(experts, moe.Int("num_selects"), Enumerable.Range(0, layers).ToArray(), sizes, 0, scales, network, RoutingWeights.SoftmaxOverTopK,
                moe.Bool("gate_add_noise", true), null);
            var renamed = new List<KeyValuePair<string, Tensor>>();
            foreach (var (name, tensor) in tensors)
            {
                if (name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal))
                {
                    tensor.Dispose(); // old .bin exports carry the RoPE buffer; it is recomputed
                    continue;
                }

                renamed.Add(new(ToNativeName(name), tensor));
            }

            var dense = sizes.Max(s => s.Sum());
            return new MoeCheckpoint(baseConfig with { IntermediateSize = dense, ExtraProperties = new Dictionary<string, JsonNode?>() }, layout, renamed);
        }
        catch
        {
            foreach (var (_, t) in tensors)
            {
                t.Dispose();
            }

            throw;
        }
    }

    /// <summary>v1 → native tensor name (names outside the MLP are unchanged).</summary>
    public static string ToNativeName(string v1Name)
    {
        var layer = MoeTensorNames.LayerOf(v1Name);
        if (layer < 0)
        {
            return v1Name;
        }

        var prefix = $"model.layers.{layer}.mlp.";
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
