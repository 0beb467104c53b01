using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// The attention-MoE part of the LLaMA-MoE v2 released layout (spec §6.2, Mixtral custom code). Tensor keys are the
/// same as the native ones (<c>model.layers.{i}.self_attn.gate.weight</c>, <c>…self_attn.{q,k,v,o}_proj.{e}.weight</c>),
/// so the key maps are the identity on attention-MoE keys and refuse other keys. The config differs: v2 stores
/// <c>use_attn_moe</c>, <c>attn_experts</c>, <c>top_k_attn</c>, <c>scale_factor_attn</c> and applies attention-MoE to
/// every layer. v2's <c>o_proj.{e}.bias</c> (<c>add_rescale_bias</c>) has no native counterpart and is refused.
/// </summary>
public static partial class AttentionMoeV2Layout
{
    /// <summary>The v2 config keys this layout reads and writes.</summary>
    public static IReadOnlyList<string> ConfigKeys { get; } = ["use_attn_moe", "attn_experts", "top_k_attn", "scale_factor_attn"];

    /// <summary>Whether <paramref name="key"/> is an attention-MoE tensor key (router or per-expert projection).</summary>
    public static bool IsAttentionMoeKey(string key) => AttentionKey().IsMatch(key);

    /// <summary>The v2 key of native attention-MoE key <paramref name="nativeKey"/> (LMOE2306 for any other key).</summary>
    public static string ToV2Key(string nativeKey) => Map(nativeKey, "native");

    /// <summary>The native key of v2 attention-MoE key <paramref name="v2Key"/> (LMOE2306 for any other key or an o_proj bias without attention_bias).</summary>
    public static string FromV2Key(string v2Key, bool attentionBias = false)
    {
        var mapped = Map(v2Key, "v2");
        if (!attentionBias && mapped.EndsWith(".bias", StringComparison.Ordinal))
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.V2Mapping,
                $"'{v2Key}' is a v2 add_rescale_bias tensor; the native attention-MoE has no o_proj bias without attention_bias.",
                v2Key,
                "Convert a checkpoint built without add_rescale_bias.");
        }

        return mapped;
    }

    /// <summary>Number of attention experts of layer <paramref name="layer"/> among <paramref name="keys"/> (distinct <c>q_proj.{e}</c> indices).</summary>
    public static int CountExperts(IEnumerable<string> keys, int layer) =>
        keys.Select(key => AttentionKey().Match(key))
            .Where(match => match.Success && match.Groups["proj"].Value == "q_proj" && int.Parse(match.Groups["layer"].Value, CultureInfo.InvariantCulture) == layer)
            .Select(match => match.Groups["expert"].Value)
            .Distinct()
            .Count();

    /// <summary>The v2 config entries for <paramref name="options"/> (<c>use_attn_moe</c> false when null).</summary>
    /// <exception cref="LlamaMoeException">LMOE2306 when the options cannot be expressed in v2 (not every layer, non-v2 routing weights).</exception>
    public static JsonObject ToV2Config(AttentionMoeOptions? options, LlamaConfig config)
    {
        if (options is null)
        {
            return new JsonObject { ["use_attn_moe"] = false };
        }

        if (options.Layers.Count != config.NumHiddenLayers || options.Weights != RoutingWeights.SoftmaxRenormalized)
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.V2Mapping,
                "The v2 layout applies attention-MoE to every layer with softmax-renormalised weights; these options do not.",
                "attention_moe.layers",
                "Export to the native format instead, or convert every layer.");
        }

        return new JsonObject
        {
            ["use_attn_moe"] = true,
            ["attn_experts"] = options.NumExperts,
            ["top_k_attn"] = options.TopK,
            ["scale_factor_attn"] = options.ScaleFactor,
        };
    }

    /// <summary>
    /// The options a v2 config describes (null when <c>use_attn_moe</c> is absent or false). v2's converter never
    /// writes <c>attn_experts</c>; pass <paramref name="expertsInCheckpoint"/> (see <see cref="CountExperts"/>) to fill it in.
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2306 when a key is missing or has the wrong type; LMOE2301/2302 for bad values.</exception>
    public static AttentionMoeOptions? FromV2Config(JsonObject v2Config, LlamaConfig config, int? expertsInCheckpoint = null, string? filePath = null)
    {
        if (!v2Config.TryGetPropertyValue("use_attn_moe", out var use) || use is null || !(use.GetValueKind() == JsonValueKind.True))
        {
            return null;
        }

        var experts = Number(v2Config, "attn_experts", filePath) ?? expertsInCheckpoint
            ?? throw Missing("attn_experts", "v2's converter never sets attn_experts; set it to num_key_value_heads × split.", filePath);
        var topK = Number(v2Config, "top_k_attn", filePath) ?? throw Missing("top_k_attn", "Add top_k_attn (v2 explored 7 of 8).", filePath);
        var scale = Number(v2Config, "scale_factor_attn", filePath) ?? 1.0;
        if (experts != Math.Floor(experts) || topK != Math.Floor(topK) || experts % config.NumKeyValueHeads != 0)
        {
            throw AttentionMoeErrors.Create(
                AttentionMoeErrors.V2Mapping,
                $"attn_experts {experts} must be an integer multiple of num_key_value_heads ({config.NumKeyValueHeads}) and top_k_attn {topK} an integer.",
                "attn_experts",
                "Fix the v2 config.",
                filePath);
        }

        return new AttentionMoeOptions((int)experts, (int)topK, scale, (int)experts / config.NumKeyValueHeads, Enumerable.Range(0, config.NumHiddenLayers).ToArray())
            .Validate(config, filePath);
    }

    private static string Map(string key, string side)
    {
        if (!IsAttentionMoeKey(key))
        {
            throw AttentionMoeErrors.Create(AttentionMoeErrors.V2Mapping, $"'{key}' is not a {side} attention-MoE tensor key.", key, "Map only model.layers.{i}.self_attn.gate/q_proj.{e}/k_proj.{e}/v_proj.{e}/o_proj.{e} keys.");
        }

        return key;
    }

    private static double? Number(JsonObject obj, string key, string? filePath)
    {
        if (!obj.TryGetPropertyValue(key, out var node) || node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        throw AttentionMoeErrors.Create(AttentionMoeErrors.V2Mapping, $"v2 config key '{key}' must be a number.", key, "Fix the v2 config.", filePath);
    }

    private static LlamaMoeException Missing(string key, string advice, string? filePath) =>
        AttentionMoeErrors.Create(AttentionMoeErrors.V2Mapping, $"The v2 config enables use_attn_moe but lacks '{key}'.", key, advice, filePath);

    [GeneratedRegex(@"^model\.layers\.(?<layer>\d+)\.self_attn\.(?:gate\.weight|(?<proj>[qkvo]_proj)\.(?<expert>\d+)\.(?:weight|bias))$")]
    private static partial Regex AttentionKey();
}
