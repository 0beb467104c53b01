using LlamaMoe.Modeling.Moe;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>build-moe</c>.</summary>
public sealed class BuildMoeOptions : StepOptions
{
    /// <summary>Experts per token.</summary>
    [Option("Experts per token (top-k).", Minimum = 1, Maximum = 1024)]
    public int TopK { get; set; } = 2;

    /// <summary>Scale of the routed experts' output; default E/k without a residual expert, 1.0 with one (v2).</summary>
    [Option("Scale factor of every MoE layer; default E/top-k without a residual expert and 1.0 with one (v2's values).", Minimum = 0)]
    public double? ScaleFactor { get; set; }

    /// <summary>Per-MoE-layer scale factors (in MoE layer order), overriding <see cref="ScaleFactor"/>.</summary>
    [Option("One scale factor per MoE layer (in layer order), overriding scale-factor.")]
    public List<double>? LayerScaleFactors { get; set; }

    /// <summary>Leading layers kept dense.</summary>
    [Option("Leading layers kept dense (contract layers).", Minimum = 0)]
    public int ContractFirst { get; set; }

    /// <summary>Trailing layers kept dense.</summary>
    [Option("Trailing layers kept dense (contract layers).", Minimum = 0)]
    public int ContractLast { get; set; }

    /// <summary>The router network: linear (v2) or tanh-mlp (v1).</summary>
    [Option("Router network: linear (v2) or tanh-mlp (v1; the router weights become its first layer, the second is the identity).")]
    public RouterNetwork RouterNetwork { get; set; } = RouterNetwork.Linear;

    /// <summary>How routing weights are computed.</summary>
    [Option("Routing weights: softmax-renormalized (v2), softmax, softmax-over-top-k (v1) or unit.")]
    public RoutingWeights RoutingWeights { get; set; } = RoutingWeights.SoftmaxRenormalized;

    /// <summary>v1's noisy gate.</summary>
    [Option("v1 noisy top-k gate (adds a zero-initialised noise projection).")]
    public bool Noisy { get; set; }

    /// <summary>A dense model folder when no dense-model stage is needed.</summary>
    [Option("Dense model folder when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

    /// <summary>Attention experts per token, with an attention-experts stage in needs.</summary>
    [Option("Attention experts per token when a split-attention stage is in needs; default all but one (v2's top-7 of 8).", Minimum = 1, Maximum = 1024)]
    public int? AttentionTopK { get; set; }

    /// <summary>Scale of the selected attention experts' output, with an attention-experts stage in needs.</summary>
    [Option("Scale factor of the attention experts when a split-attention stage is in needs; default 1.0 (v2's AttnMoE-Top7-Scale1.0).", Minimum = 0)]
    public double? AttentionScaleFactor { get; set; }

    /// <summary>How attention routing weights are computed, with an attention-experts stage in needs.</summary>
    [Option("Attention routing weights when a split-attention stage is in needs: softmax-renormalized (v2, default), softmax, softmax-over-top-k or unit.")]
    public RoutingWeights? AttentionRoutingWeights { get; set; }

    /// <summary>Largest output shard in MiB.</summary>
    [Option("Largest safetensors shard in MiB.", Minimum = 1)]
    public int MaxShardMb { get; set; } = 5120;

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (LayerScaleFactors is not null && ScaleFactor is not null)
        {
            yield return new OptionProblem("layer-scale-factors", "give either scale-factor or layer-scale-factors, not both", "Remove one of them.");
        }

        if (LayerScaleFactors?.Any(s => !(s > 0) || double.IsInfinity(s)) == true)
        {
            yield return new OptionProblem("layer-scale-factors", "every scale factor must be a positive finite number");
        }

        if (AttentionScaleFactor is { } attentionScale && !(attentionScale > 0 && double.IsFinite(attentionScale)))
        {
            yield return new OptionProblem("attention-scale-factor", "the attention scale factor must be a positive finite number");
        }
    }
}
