using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// The released LLaMA-MoE v2 layout (spec §6.2): model_type mixtral with custom code, Mixtral keys plus
/// <c>scale_factor</c>, <c>intermediate_size_residual</c> (residual expert at <c>model.layers.{i}.mlp_residual.*</c>),
/// attention-MoE (<c>use_attn_moe</c>, <c>attn_experts</c>, <c>top_k_attn</c>, <c>scale_factor_attn</c>; weights at
/// <c>self_attn.gate.weight</c>, <c>self_attn.{q,k,v,o}_proj.{e}.weight</c>, the same keys as native).
/// </summary>
public static class LlamaMoeV2Format
{
    /// <summary>The v2 config keys beyond the LLaMA keys.</summary>
    public static IReadOnlySet<string> ExtensionKeys { get; } = new HashSet<string>(MixtralFormat.ExtensionKeys, StringComparer.Ordinal)
    {
        "scale_factor", "intermediate_size_residual", "moe_type", "num_moe_contract_layers", "use_layer_wise_balance", "add_rescale_bias",
        "use_attn_moe", "top_k_attn", "attn_experts", "scale_factor_attn",
    };

    /// <summary>Writes <paramref name="checkpoint"/> in the v2 layout (LMOE121x when it does not fit).</summary>
    public static void Write(MoeCheckpoint checkpoint, string directory, string? companionSource = null, long maxShardBytes = 5L << 30)
    {
        MoeExportChecks.RequireMixtralCompatible(checkpoint, "llama-moe-v2", allowResidual: true, allowAttentionMoe: true);
        var layout = checkpoint.Config;
        var attention = layout.AttentionMoe;
        var layers = layout.Dense.NumHiddenLayers;
        if (attention is not null && !(attention["layers"] is JsonArray l && l.Select(n => n!.GetValue<int>()).Order().SequenceEqual(Enumerable.Range(0, layers))))
        {
            throw new LlamaMoeException(ExportErrorCodes.AttentionMoeNotExportable, "the model cannot be exported as llama-moe-v2: v2 applies attention-MoE to every layer, but attention_moe.layers is a subset",
                key: "attention_moe.layers", advice: "Export to native.");
        }

        if (attention?["weights"] is JsonValue w && w.GetValue<string>() != "softmax_renormalized")
        {
            throw new LlamaMoeException(ExportErrorCodes.RouterNotExportable, "the model cannot be exported as llama-moe-v2: the attention router's weights are not softmax_renormalized",
                key: "attention_moe.weights", advice: "Export to native.");
        }

        var uniformScale = layout.ScaleFactors.Distinct().Count() == 1;
        Directory.CreateDirectory(directory);
        var entries = uniformScale ? checkpoint.Entries : MixtralFormat.FoldScale(checkpoint);
        StreamingCheckpointWriter.Write(directory, entries.Select(e => CheckpointTensors.Scaled(e, 1.0, ToV2Name(e.Name))).ToList(), maxShardBytes);

        var root = MixtralFormat.ConfigJson(checkpoint);
        root["scale_factor"] = uniformScale ? layout.ScaleFactors[0] : 1.0;
        root["intermediate_size_residual"] = layout.ResidualSize > 0 ? layout.ResidualSize : null;
        root["moe_type"] = "modulelist";
        root["num_moe_contract_layers"] = 0;
        root["use_layer_wise_balance"] = false;
        root["add_rescale_bias"] = false;
        root["use_attn_moe"] = attention is not null;
        root["attn_experts"] = attention?["num_experts"]?.DeepClone();
        root["top_k_attn"] = attention?["top_k"]?.DeepClone();
        root["scale_factor_attn"] = attention?["scale_factor"]?.DeepClone();
        root["auto_map"] = new JsonObject
        {
            ["AutoConfig"] = "configuration_mixtral.MixtralConfig",
            ["AutoModel"] = "modeling_mixtral.MixtralModel",
            ["AutoModelForCausalLM"] = "modeling_mixtral.MixtralForCausalLM",
        };
        MoeConfigJson.Write(root, directory);
        NativeMoeFormat.FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>Opens a v2 directory in the native layout (tensors are read when used).</summary>
    public static MoeCheckpoint Read(string directory) => CheckpointTensors.Open(directory, ReadConfig(directory), name => (ToNativeName(name), 1.0));

    /// <summary>The native config of a v2 directory (config.json only; LMOE1220/LMOE1222 when it does not fit).</summary>
    public static MoeConfig ReadConfig(string directory)
    {
        var (dense, keys) = MoeConfigJson.ReadConverted(directory, ExtensionKeys, "mixtral");
        if ((keys.String("moe_type") ?? "modulelist") != "modulelist" || keys.Int("num_moe_contract_layers", 0) != 0 || keys.Bool("add_rescale_bias", false))
        {
            throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, "only the released v2 variant is read: moe_type modulelist, num_moe_contract_layers 0, add_rescale_bias false",
                keys.FilePath, "moe_type", "Convert the checkpoint with the released v2 scripts.");
        }

        JsonObject? attention = null;
        if (keys.Bool("use_attn_moe", false))
        {
            var experts = keys.Int("attn_experts");
            if (experts % dense.NumKeyValueHeads != 0)
            {
                throw keys.Error("attn_experts", $"must be a multiple of num_key_value_heads ({dense.NumKeyValueHeads})");
            }

            attention = new JsonObject
            {
                ["num_experts"] = experts,
                ["top_k"] = keys.Int("top_k_attn"),
                ["scale_factor"] = keys.Number("scale_factor_attn", 1.0),
                ["split"] = experts / dense.NumKeyValueHeads,
                ["layers"] = new JsonArray(Enumerable.Range(0, dense.NumHiddenLayers).Select(i => (JsonNode?)i).ToArray()),
            };
        }

        return MixtralFormat.FromMixtralKeys(dense, keys, keys.Int("intermediate_size_residual", 0), keys.Number("scale_factor", 1.0), attention);
    }

    /// <summary>Native → v2 name: the residual expert moves from the block to the layer (<c>model.layers.{i}.mlp_residual.*</c>).</summary>
    public static string ToV2Name(string nativeName) => nativeName.Replace(".block_sparse_moe.mlp_residual.", ".mlp_residual.", StringComparison.Ordinal);

    /// <summary>v2 → native name.</summary>
    public static string ToNativeName(string v2Name) =>
        DenseTensorNames.LayerOf(v2Name) >= 0 && v2Name.Contains(".mlp_residual.", StringComparison.Ordinal) && !v2Name.Contains(".block_sparse_moe.", StringComparison.Ordinal)
            ? v2Name.Replace(".mlp_residual.", ".block_sparse_moe.mlp_residual.", StringComparison.Ordinal) : v2Name;
}
