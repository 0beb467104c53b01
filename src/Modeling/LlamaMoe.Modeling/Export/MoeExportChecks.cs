using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// The conditions under which an MoE model has a Mixtral-style form (HF <c>MixtralForCausalLM</c>, llama.cpp's llama
/// architecture with experts): each violated condition is its own LMOE121x code naming the condition.
/// </summary>
public static class MoeExportChecks
{
    /// <summary>Throws when <paramref name="checkpoint"/> cannot be written in <paramref name="format"/> (a Mixtral-style format).</summary>
    /// <param name="checkpoint">The model.</param>
    /// <param name="format">The format name for the message (mixtral, gguf, llama-moe-v2).</param>
    /// <param name="allowResidual">Whether the target format has a residual expert (LLaMA-MoE v2).</param>
    /// <param name="allowAttentionMoe">Whether the target format has attention-MoE (LLaMA-MoE v2).</param>
    /// <param name="anyRoutingWeights">Whether the caller checks the routing weights itself (GGUF qwen2moe); the router must still be linear and noise-free.</param>
    public static void RequireMixtralCompatible(MoeCheckpoint checkpoint, string format, bool allowResidual = false, bool allowAttentionMoe = false, bool anyRoutingWeights = false)
    {
        var layout = checkpoint.Config;
        var layers = layout.Dense.NumHiddenLayers;
        if (!allowResidual && layout.ResidualSize > 0)
        {
            throw NotFit(ExportErrorCodes.ResidualExpertNotExportable, format, $"the model has a residual (shared) expert of {layout.ResidualSize} neurons", "intermediate_size_residual",
                "Export to native or llama-moe-v2, which keep the residual expert.");
        }

        if (!allowAttentionMoe && layout.AttentionMoe is not null)
        {
            throw NotFit(ExportErrorCodes.AttentionMoeNotExportable, format, "the model has attention-MoE layers", "attention_moe", "Export to native or llama-moe-v2.");
        }

        if (layout.MoeLayers.Count != layers)
        {
            var dense = Enumerable.Range(0, layers).Where(l => !layout.IsMoeLayer(l)).ToArray();
            throw NotFit(ExportErrorCodes.DenseLayersNotExportable, format, $"layers {string.Join(", ", dense)} are dense; every layer must be an MoE layer", "moe_layers",
                "Convert every layer to MoE, or export to native.");
        }

        var sizes = layout.ExpertSizes.SelectMany(s => s).Distinct().ToArray();
        if (sizes.Length != 1)
        {
            throw NotFit(ExportErrorCodes.UnequalExpertsNotExportable, format, $"expert sizes differ ({string.Join(", ", sizes.Order())}); all experts must have the same size", "expert_sizes",
                "Construct the experts with equal sizes, or export to native.");
        }

        var router = layout.Router;
        if (router.Network != RouterNetwork.Linear || (router.Weights != RoutingWeights.SoftmaxRenormalized && !anyRoutingWeights) || router.Noisy)
        {
            throw NotFit(ExportErrorCodes.RouterNotExportable, format,
                $"the router is {MoeRouterSpec.NetworkName(router.Network)}/{MoeRouterSpec.WeightsName(router.Weights)}{(router.Noisy ? "/noisy" : string.Empty)}; it must be linear with softmax_renormalized weights and no noise",
                "router", "Export to native (or llama-moe-v1 style routers stay native).");
        }

        if (layout.Dense.MlpBias || layout.Dense.AttentionBias)
        {
            throw NotFit(ExportErrorCodes.GgufUnsupportedModel, format, "the model has attention or MLP biases", layout.Dense.MlpBias ? "mlp_bias" : "attention_bias", "Export to native.");
        }
    }

    private static LlamaMoeException NotFit(string code, string format, string condition, string key, string advice) =>
        new(code, $"the model cannot be exported as {format}: {condition}", key: key, advice: advice);
}
