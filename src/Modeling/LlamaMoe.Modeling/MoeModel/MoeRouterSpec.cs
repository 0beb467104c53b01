using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>The <c>router</c> object of a native MoE config.json: network, routing weights and v1 noise.</summary>
/// <param name="Network">Linear (v2) or tanh MLP (v1).</param>
/// <param name="Weights">How routing weights are computed from the logits.</param>
/// <param name="Noisy">v1 noisy top-k gate (adds <c>gate.weight_noise.weight</c>).</param>
public sealed record MoeRouterSpec(RouterNetwork Network = RouterNetwork.Linear, RoutingWeights Weights = RoutingWeights.SoftmaxRenormalized, bool Noisy = false)
{
    /// <summary>v2: linear gate, softmax over all experts, top-k renormalised, no noise.</summary>
    public static MoeRouterSpec V2 { get; } = new();

    /// <summary>The JSON names of the routing-weight modes.</summary>
    public static string WeightsName(RoutingWeights weights) => weights switch
    {
        RoutingWeights.SoftmaxRenormalized => "softmax_renormalized",
        RoutingWeights.Softmax => "softmax",
        RoutingWeights.SoftmaxOverTopK => "softmax_over_topk",
        _ => "unit",
    };

    /// <summary>The JSON name of a router network.</summary>
    public static string NetworkName(RouterNetwork network) => network == RouterNetwork.Linear ? "linear" : "tanh_mlp";

    /// <summary>Parses a routing-weights name (LMOE2203 when unknown).</summary>
    public static RoutingWeights ParseWeights(string name, string? filePath = null) => name switch
    {
        "softmax_renormalized" => RoutingWeights.SoftmaxRenormalized,
        "softmax" => RoutingWeights.Softmax,
        "softmax_over_topk" => RoutingWeights.SoftmaxOverTopK,
        "unit" => RoutingWeights.Unit,
        _ => throw new LlamaMoeException(ConstructionErrorCodes.UnknownRouter, $"unknown router weights '{name}'", filePath, "router.weights",
            "Use softmax_renormalized, softmax, softmax_over_topk or unit."),
    };

    /// <summary>Parses a router network name (LMOE2203 when unknown).</summary>
    public static RouterNetwork ParseNetwork(string name, string? filePath = null) => name switch
    {
        "linear" => RouterNetwork.Linear,
        "tanh_mlp" => RouterNetwork.TanhMlp,
        _ => throw new LlamaMoeException(ConstructionErrorCodes.UnknownRouter, $"unknown router network '{name}'", filePath, "router.network",
            "Use linear or tanh_mlp."),
    };

    /// <summary>The JSON object.</summary>
    public JsonObject ToJson() => new()
    {
        ["network"] = NetworkName(Network),
        ["weights"] = WeightsName(Weights),
        ["noisy"] = Noisy,
    };

    /// <summary>Reads the JSON object (LMOE2201 for a wrong type, LMOE2203 for unknown names).</summary>
    public static MoeRouterSpec FromJson(JsonNode? node, string? filePath)
    {
        if (node is not JsonObject obj)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidMoeKey, "router must be an object {network, weights, noisy}", filePath, "router",
                "Write \"router\": {\"network\": \"linear\", \"weights\": \"softmax_renormalized\", \"noisy\": false}.");
        }

        foreach (var (key, _) in obj)
        {
            if (key is not ("network" or "weights" or "noisy"))
            {
                throw new LlamaMoeException(ConstructionErrorCodes.InvalidMoeKey, $"router has the unknown key '{key}'", filePath, "router." + key, "Use network, weights and noisy only.");
            }
        }

        var keys = ConfigKeyReader.Native(obj.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), filePath, "router.");
        return new MoeRouterSpec(
            ParseNetwork(keys.String("network") ?? "linear", filePath),
            ParseWeights(keys.String("weights") ?? "softmax_renormalized", filePath),
            keys.Bool("noisy", false));
    }
}
