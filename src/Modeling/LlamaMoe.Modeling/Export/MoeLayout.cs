using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// The MoE structure of a checkpoint, independent of its file format (native, Mixtral, LLaMA-MoE v1/v2): which layers
/// are MoE, expert sizes per MoE layer, routing, residual expert, scale factors and the attention-MoE block.
/// </summary>
/// <param name="ExpertCount">Routed experts per MoE layer E.</param>
/// <param name="TopK">Experts per token k.</param>
/// <param name="MoeLayers">Indices of the MoE layers, ascending; other layers are dense.</param>
/// <param name="ExpertSizes">Neurons per expert, one list per MoE layer in <paramref name="MoeLayers"/> order.</param>
/// <param name="ResidualSize">Width of the always-on residual expert; 0 for none.</param>
/// <param name="ScaleFactors">Scale factor per MoE layer (in <paramref name="MoeLayers"/> order).</param>
/// <param name="Router">The router network.</param>
/// <param name="Weights">How routing weights are computed.</param>
/// <param name="Noisy">Whether the router adds training noise (v1 noisy gate; <c>gate.weight_noise.weight</c>).</param>
/// <param name="AttentionMoe">The native <c>attention_moe</c> object, or null.</param>
public sealed record MoeLayout(
    int ExpertCount,
    int TopK,
    IReadOnlyList<int> MoeLayers,
    IReadOnlyList<IReadOnlyList<int>> ExpertSizes,
    int ResidualSize,
    IReadOnlyList<double> ScaleFactors,
    RouterNetwork Router,
    RoutingWeights Weights,
    bool Noisy,
    JsonObject? AttentionMoe)
{
    /// <summary>Whether layer <paramref name="layer"/> is an MoE layer.</summary>
    public bool IsMoe(int layer) => MoeLayers.Contains(layer);

    /// <summary>Position of <paramref name="layer"/> in <see cref="MoeLayers"/>.</summary>
    public int MoeIndex(int layer) => MoeLayers.ToList().IndexOf(layer);

    /// <summary>The block options of MoE layer <paramref name="layer"/>, for building a <see cref="SparseMoeBlock"/>.</summary>
    public SparseMoeBlockOptions BlockOptions(int layer, int hiddenSize, bool mlpBias = false)
    {
        var index = MoeIndex(layer);
        return new SparseMoeBlockOptions(hiddenSize, ExpertSizes[index], TopK, ScaleFactors[index], ResidualSize > 0 ? ResidualSize : null, Router, Weights, Noisy, MlpBias: mlpBias);
    }

    /// <summary>The native config name of a router network.</summary>
    public static string NetworkName(RouterNetwork network) => network == RouterNetwork.Linear ? "linear" : "tanh_mlp";

    /// <summary>The native config name of a routing-weight rule.</summary>
    public static string WeightsName(RoutingWeights weights) => weights switch
    {
        RoutingWeights.SoftmaxRenormalized => "softmax_renormalized",
        RoutingWeights.Softmax => "softmax",
        RoutingWeights.SoftmaxOverTopK => "softmax_over_topk",
        _ => "unit",
    };

    /// <summary>Checks the layout against itself and a model of <paramref name="layers"/> layers (LMOE1220).</summary>
    public MoeLayout Validate(int layers, string? filePath = null)
    {
        void Check(bool ok, string key, string message)
        {
            if (!ok)
            {
                throw new LlamaMoeException(ExportErrorCodes.MoeConfigInvalid, message, filePath, key, "Fix the MoE keys of config.json.");
            }
        }

        Check(ExpertCount >= 1, "num_local_experts", $"num_local_experts must be positive, got {ExpertCount}");
        Check(TopK >= 1 && TopK <= ExpertCount, "num_experts_per_tok", $"num_experts_per_tok must be in [1, {ExpertCount}], got {TopK}");
        Check(MoeLayers.All(l => l >= 0 && l < layers) && MoeLayers.Distinct().Count() == MoeLayers.Count && MoeLayers.SequenceEqual(MoeLayers.Order()),
            "moe_layers", $"moe_layers must be distinct ascending layer indices below {layers}");
        Check(ExpertSizes.Count == MoeLayers.Count && ExpertSizes.All(s => s.Count == ExpertCount && s.All(m => m > 0)),
            "expert_sizes", $"expert_sizes must hold {MoeLayers.Count} lists of {ExpertCount} positive sizes");
        Check(ScaleFactors.Count == MoeLayers.Count && ScaleFactors.All(double.IsFinite), "scale_factor", "scale_factor must be a finite number or one per MoE layer");
        Check(ResidualSize >= 0, "intermediate_size_residual", "intermediate_size_residual must be >= 0");
        return this;
    }
}
