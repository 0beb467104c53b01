using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// How <see cref="MoeConverter"/> turns dense attention into attention-MoE (spec §2): the options (experts, top-k, scale,
/// split, layers) and the router matrix <c>(n, H)</c> of every attention-MoE layer. The experts themselves are sliced from
/// the dense q/k/v/o projections while streaming (<see cref="AttentionExpertPartition"/>).
/// </summary>
/// <param name="Options">The attention-MoE options written to the config's <c>attention_moe</c> object.</param>
/// <param name="RouterWeights">Router matrix <c>(n, H)</c> (any float dtype) of every layer in <see cref="AttentionMoeOptions.Layers"/>, by model layer index.</param>
public sealed record AttentionMoePlan(AttentionMoeOptions Options, IReadOnlyDictionary<int, Tensor> RouterWeights)
{
    /// <summary>
    /// A plan whose routers are initialised like <see cref="AttentionMoeConversion.LoadLayers"/> does (layer i seeded with
    /// <c>seed + i</c>), so a streamed conversion equals the in-memory one. The caller owns (disposes) the router tensors.
    /// </summary>
    public static AttentionMoePlan Create(LlamaConfig dense, AttentionMoeOptions options, AttentionRouterInit routerInit = AttentionRouterInit.KaimingUniform, long seed = 0)
    {
        options.Validate(dense);
        var routers = options.Layers.ToDictionary(layer => layer, layer => AttentionMoeSlicer.RouterWeight(options.NumExperts, dense.HiddenSize, routerInit, seed + layer));
        return new AttentionMoePlan(options, routers);
    }

    /// <summary>Checks the options against <paramref name="dense"/> (LMOE2301/2302) and every router's shape (LMOE2206).</summary>
    public void Validate(LlamaConfig dense)
    {
        Options.Validate(dense);
        foreach (var layer in Options.Layers)
        {
            if (!RouterWeights.TryGetValue(layer, out var router) || router.dim() != 2 || router.shape[0] != Options.NumExperts || router.shape[1] != dense.HiddenSize)
            {
                throw new LlamaMoeException(ConstructionErrorCodes.PlanMismatch,
                    $"attention-MoE layer {layer} needs a router of shape [{Options.NumExperts}, {dense.HiddenSize}]" + (router is null ? ", none was given" : $", got [{string.Join(", ", router.shape)}]"),
                    key: $"layers.{layer}.self_attn.gate", advice: "Initialise one attention router per attention-MoE layer for this dense model (AttentionMoePlan.Create).");
            }
        }
    }

    /// <summary>Disposes the router tensors.</summary>
    public void DisposeRouters()
    {
        foreach (var router in RouterWeights.Values)
        {
            router.Dispose();
        }
    }
}
