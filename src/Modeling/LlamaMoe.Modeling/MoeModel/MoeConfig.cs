using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>
/// The native LlamaMoe checkpoint config (<c>model_type: "llamamoe"</c>): every key of the dense <see cref="LlamaConfig"/>
/// (with <c>intermediate_size</c> the dense width) plus the MoE keys <c>num_local_experts</c>, <c>num_experts_per_tok</c>,
/// <c>moe_layers</c>, <c>expert_sizes</c>, <c>intermediate_size_residual</c>, <c>scale_factor</c>, <c>router</c>,
/// <c>attention_moe</c> and <c>llamamoe_format_version</c>. Layers not in <see cref="MoeLayers"/> are dense ("contract") layers.
/// </summary>
public sealed record MoeConfig
{
    /// <summary>model_type of the native format.</summary>
    public const string ModelType = "llamamoe";

    /// <summary>architectures entry of the native format.</summary>
    public const string Architecture = "LlamaMoeForCausalLM";

    /// <summary>The only format version this code reads and writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The MoE keys of config.json.</summary>
    public static IReadOnlySet<string> MoeKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "num_local_experts", "num_experts_per_tok", "moe_layers", "expert_sizes", "intermediate_size_residual",
        "scale_factor", "router", "attention_moe", "llamamoe_format_version",
    };

    /// <summary>The dense architecture (model_type llama, no MoE keys).</summary>
    public required LlamaConfig Dense { get; init; }

    /// <summary>Routed experts per MoE layer E.</summary>
    public required int ExpertCount { get; init; }

    /// <summary>Experts per token k.</summary>
    public required int TopK { get; init; }

    /// <summary>Ascending indices of the MoE layers.</summary>
    public required IReadOnlyList<int> MoeLayers { get; init; }

    /// <summary>Neurons of every routed expert, one list per MoE layer in <see cref="MoeLayers"/> order.</summary>
    public required IReadOnlyList<IReadOnlyList<int>> ExpertSizes { get; init; }

    /// <summary>Neurons of the residual (always-on) expert of every MoE layer; 0 for none.</summary>
    public int ResidualSize { get; init; }

    /// <summary>Scale factor of every MoE layer (same length as <see cref="MoeLayers"/>).</summary>
    public required IReadOnlyList<double> ScaleFactors { get; init; }

    /// <summary>The router.</summary>
    public MoeRouterSpec Router { get; init; } = MoeRouterSpec.V2;

    /// <summary>The attention-MoE object (owned by the attention-MoE code), or null.</summary>
    public JsonNode? AttentionMoe { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> is an MoE layer.</summary>
    public bool IsMoeLayer(int layer) => MoeLayers.Contains(layer);

    /// <summary>The block options of MoE layer <paramref name="layer"/> (a model layer index).</summary>
    public SparseMoeBlockOptions BlockOptions(int layer)
    {
        var position = IndexOfMoeLayer(layer);
        return new SparseMoeBlockOptions(
            Dense.HiddenSize, ExpertSizes[position], TopK, ScaleFactors[position], ResidualSize > 0 ? ResidualSize : null,
            Router.Network, Router.Weights, Router.Noisy, MlpBias: Dense.MlpBias);
    }

    /// <summary>Position of <paramref name="layer"/> in <see cref="MoeLayers"/>.</summary>
    public int IndexOfMoeLayer(int layer)
    {
        for (var i = 0; i < MoeLayers.Count; i++)
        {
            if (MoeLayers[i] == layer)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is not an MoE layer");
    }

    /// <summary>Total parameters per MoE layer's routed experts (w1, w2, w3) plus residual, for reporting.</summary>
    public long ExpertParameters(int position) =>
        3L * Dense.HiddenSize * (ExpertSizes[position].Sum() + ResidualSize);

    /// <summary>
    /// Checks the MoE keys against each other and the dense keys (LMOE2202); returns this config.
    /// </summary>
    public MoeConfig Validate(string? filePath = null)
    {
        Dense.Validate(filePath);
        if (ExpertCount < 1)
        {
            throw Contradiction($"num_local_experts must be at least 1, got {ExpertCount}", "num_local_experts", filePath);
        }

        if (TopK < 1 || TopK > ExpertCount)
        {
            throw Contradiction($"num_experts_per_tok must be between 1 and num_local_experts ({ExpertCount}), got {TopK}", "num_experts_per_tok", filePath);
        }

        for (var i = 0; i < MoeLayers.Count; i++)
        {
            if (MoeLayers[i] < 0 || MoeLayers[i] >= Dense.NumHiddenLayers || (i > 0 && MoeLayers[i] <= MoeLayers[i - 1]))
            {
                throw Contradiction($"moe_layers must be ascending, distinct layer indices below num_hidden_layers ({Dense.NumHiddenLayers})", "moe_layers", filePath);
            }
        }

        if (ExpertSizes.Count != MoeLayers.Count)
        {
            throw Contradiction($"expert_sizes has {ExpertSizes.Count} lists but moe_layers has {MoeLayers.Count} layers", "expert_sizes", filePath);
        }

        for (var i = 0; i < ExpertSizes.Count; i++)
        {
            if (ExpertSizes[i].Count != ExpertCount || ExpertSizes[i].Any(size => size <= 0))
            {
                throw Contradiction($"expert_sizes[{i}] must list {ExpertCount} positive sizes", "expert_sizes", filePath);
            }
        }

        if (ResidualSize < 0)
        {
            throw Contradiction($"intermediate_size_residual must be 0 (none) or positive, got {ResidualSize}", "intermediate_size_residual", filePath);
        }

        if (ScaleFactors.Count != MoeLayers.Count)
        {
            throw Contradiction($"scale_factor lists {ScaleFactors.Count} values but there are {MoeLayers.Count} MoE layers", "scale_factor", filePath);
        }

        if (ScaleFactors.Any(s => !double.IsFinite(s)))
        {
            throw Contradiction("scale_factor values must be finite", "scale_factor", filePath);
        }

        return this;
    }

    /// <summary>The LlamaConfig a <see cref="Llama.LlamaForCausalLM"/> of this MoE carries: model_type llamamoe with the MoE keys as extras.</summary>
    public LlamaConfig ToLlamaConfig() => MoeConfigJson.ToLlamaConfig(this);

    /// <summary>The typed view of a LlamaConfig that carries MoE keys (model_type llamamoe).</summary>
    public static MoeConfig FromLlamaConfig(LlamaConfig config, string? filePath = null) => MoeConfigJson.FromLlamaConfig(config, filePath);

    /// <summary>Reads and validates a native config.json.</summary>
    public static MoeConfig Read(string path) =>
        FromLlamaConfig(LlamaConfigJson.Read(path, MoeKeys, new HashSet<string>(StringComparer.Ordinal) { ModelType }), path);

    /// <summary>Parses native config JSON text.</summary>
    public static MoeConfig Parse(string json, string? filePath = null) =>
        FromLlamaConfig(LlamaConfigJson.Parse(json, filePath, MoeKeys, new HashSet<string>(StringComparer.Ordinal) { ModelType }), filePath);

    /// <summary>The config.json text.</summary>
    public string ToJson() => LlamaConfigJson.ToJson(ToLlamaConfig());

    /// <summary>Writes config.json atomically.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    private static LlamaMoeException Contradiction(string message, string key, string? filePath) =>
        new(ConstructionErrorCodes.MoeContradiction, message, filePath, key, "Make the MoE keys consistent with each other and with num_hidden_layers.");
}
