using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>
/// LLaMA-MoE v2 attention-MoE (spec §2, eager path): n experts, each a slice of the dense attention (its query heads,
/// a copy of its group's K/V head and the matching o_proj columns), and a linear router on the attention input.
/// Per token: softmax over all n logits (float32), top-k, renormalised, times <see cref="AttentionMoeOptions.ScaleFactor"/>.
/// Each expert attends only among the tokens routed to it: they are gathered per batch row in order into a compact
/// sequence (no per-token loops), RoPE uses their original positions, and the causal mask (plus any caller mask) is
/// evaluated at their original indices; a token not routed to expert e neither queries nor is attended by it. The
/// computation is exact (no approximation). The q/k/v projections of all experts run as one matmul over all tokens and
/// the weighted expert outputs go through the experts' o_proj slices side by side in one matmul (the dense
/// projections' cost and, for split 1, their exact arithmetic); the attention itself costs about <c>k/n</c> of the dense one.
/// <para>
/// Parameter names (relative to <c>model.layers.{i}.self_attn</c>, identical to the v2 release):
/// <c>gate.weight</c> (n, H); <c>q_proj.{e}.weight</c> (G·d/split, H); <c>k_proj.{e}.weight</c> (d, H);
/// <c>v_proj.{e}.weight</c> (d, H); <c>o_proj.{e}.weight</c> (H, G·d/split); plus <c>.bias</c> of each projection when
/// <c>attention_bias</c>.
/// </para>
/// </summary>
public sealed class AttentionMoeBlock : AttentionBlock
{
    private readonly MoeRouter gate;
    private readonly ModuleList<Linear> qProj;
    private readonly ModuleList<Linear> kProj;
    private readonly ModuleList<Linear> vProj;
    private readonly ModuleList<Linear> oProj;
    private readonly Linear[] queries;
    private readonly Linear[] keys;
    private readonly Linear[] values;
    private readonly Linear[] outputs;

    /// <summary>Creates the block for <paramref name="config"/>'s attention with fresh (PyTorch default) weights.</summary>
    /// <exception cref="LlamaMoeException">LMOE2301/LMOE2302 when the options are out of range or do not fit the config.</exception>
    public AttentionMoeBlock(LlamaConfig config, AttentionMoeOptions options, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AttentionMoeBlock))
    {
        Options = options.Validate(config);
        HiddenSize = config.HiddenSize;
        HeadDim = config.HeadDim;
        QueryHeadsPerExpert = config.NumAttentionHeads / config.NumKeyValueHeads / options.Split;
        var bias = config.AttentionBias;
        var queryWidth = QueryHeadsPerExpert * HeadDim;
        gate = new MoeRouter(HiddenSize, options.NumExperts, RouterNetwork.Linear, noisy: false, noiseEpsilon: 0, device, dtype);
        queries = Enumerable.Range(0, options.NumExperts).Select(_ => nn.Linear(HiddenSize, queryWidth, bias, device, dtype)).ToArray();
        keys = Enumerable.Range(0, options.NumExperts).Select(_ => nn.Linear(HiddenSize, HeadDim, bias, device, dtype)).ToArray();
        values = Enumerable.Range(0, options.NumExperts).Select(_ => nn.Linear(HiddenSize, HeadDim, bias, device, dtype)).ToArray();
        outputs = Enumerable.Range(0, options.NumExperts).Select(_ => nn.Linear(queryWidth, HiddenSize, bias, device, dtype)).ToArray();
        qProj = new ModuleList<Linear>(queries);
        kProj = new ModuleList<Linear>(keys);
        vProj = new ModuleList<Linear>(values);
        oProj = new ModuleList<Linear>(outputs);
        register_module("gate", gate);
        register_module("q_proj", qProj);
        register_module("k_proj", kProj);
        register_module("v_proj", vProj);
        register_module("o_proj", oProj);
    }

    /// <summary>Parts are registered explicitly under their checkpoint names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc />
    public override string StateDictName => "self_attn";

    /// <summary>The block's configuration.</summary>
    public AttentionMoeOptions Options { get; }

    /// <summary>Model width H.</summary>
    public int HiddenSize { get; }

    /// <summary>Per-head width d.</summary>
    public int HeadDim { get; }

    /// <summary>Query heads per expert (<c>G / split</c>).</summary>
    public int QueryHeadsPerExpert { get; }

    /// <summary>The router (<c>gate.weight</c>, (n, H)).</summary>
    public MoeRouter Gate => gate;

    /// <summary>Expert e's query projection (G·d/split, H).</summary>
    public IReadOnlyList<Linear> QueryProjections => queries;

    /// <summary>Expert e's key projection (d, H).</summary>
    public IReadOnlyList<Linear> KeyProjections => keys;

    /// <summary>Expert e's value projection (d, H).</summary>
    public IReadOnlyList<Linear> ValueProjections => values;

    /// <summary>Expert e's output projection (H, G·d/split).</summary>
    public IReadOnlyList<Linear> OutputProjections => outputs;

    /// <summary>Whether the next forward passes record <see cref="LastRouterLogits"/> and <see cref="LastSelectedExperts"/>.</summary>
    public bool RecordRouting { get; set; }

    /// <summary>
    /// Router logits <c>(N, n)</c> (tokens flattened) of the latest forward pass with <see cref="RecordRouting"/>, kept in
    /// the autograd graph for the auxiliary loss. Owned by the block (replaced on the next pass) unless moved to a scope.
    /// </summary>
    public Tensor? LastRouterLogits { get; private set; }

    /// <summary>Expert ids <c>(N, k)</c> selected in the latest recorded forward pass.</summary>
    public Tensor? LastSelectedExperts { get; private set; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor? attentionMask, KvCache? cache, int layerIndex)
    {
        ReleaseRouting();
        using var scope = NewDisposeScope();
        var (b, t) = (hiddenStates.shape[0], hiddenStates.shape[1]);
        var experts = Options.NumExperts;
        var state = cache?.LayerState(layerIndex, () => new AttentionExpertCache(experts));
        state?.CheckBatch(b);
        var past = state?.Length ?? 0;

        var flat = hiddenStates.reshape(-1, HiddenSize);                                                    // (N, H)
        var logits = gate.forward(flat);                                                                    // (N, n)
        var (weights, selected) = ExpertRouting.Select(logits, Options.TopK, Options.Weights, ScalarType.Float32); // (N, k)
        var combine = zeros(flat.shape[0], experts, ScalarType.Float32, flat.device)
            .scatter(1, selected, weights.mul(Options.ScaleFactor))
            .view(b, t, experts);                                                                           // (B, T, n)
        var routed = nn.functional.one_hot(selected, experts).sum(1).gt(0).view(b, t, experts);            // (B, T, n)
        var fullCos = cos.expand(b, t, HeadDim);                                                            // (B, T, hd)
        var fullSin = sin.expand(b, t, HeadDim);                                                            // (B, T, hd)
        var width = QueryHeadsPerExpert * HeadDim;
        var allQueries = Project(hiddenStates, queries);                                                   // (B, T, n*Gq*hd)
        var allKeys = Project(hiddenStates, keys);                                                         // (B, T, n*hd)
        var allValues = Project(hiddenStates, values);                                                     // (B, T, n*hd)
        var perExpert = new Tensor[experts];
        for (var e = 0; e < experts; e++)
        {
            var tokens = RoutedTokens.Gather(routed.select(-1, e));
            if (tokens is null)
            {
                perExpert[e] = zeros(new[] { b, t, (long)width }, hiddenStates.dtype, hiddenStates.device);     // (B, T, Gq*hd)
                continue;
            }

            var projected = (allQueries.narrow(-1, e * width, width), allKeys.narrow(-1, e * HeadDim, HeadDim), allValues.narrow(-1, e * HeadDim, HeadDim));
            var attended = AttendExpert(e, tokens, projected, fullCos, fullSin, attentionMask, state, past);  // (B, L, Gq*hd)
            var weight = tokens.Select(combine.narrow(-1, e, 1)).mul(tokens.Valid.unsqueeze(-1));           // (B, L, 1)
            var slots = tokens.Index.unsqueeze(-1).expand(b, tokens.Length, width);                         // (B, L, Gq*hd)
            perExpert[e] = zeros(new[] { b, t, (long)width }, hiddenStates.dtype, hiddenStates.device)
                .scatter_add(1, slots, attended.mul(weight.to_type(attended.dtype)));                      // (B, T, Gq*hd), padding adds 0
        }

        // Σ_e w_e·O_e·a_e as one matmul with the experts' o_proj slices side by side (= the dense o_proj for split 1).
        var stacked = cat(perExpert, -1);                                                                   // (B, T, n*Gq*hd)
        var output = nn.functional.linear(stacked, cat(outputs.Select(o => o.weight!).ToArray(), 1));      // (B, T, H)
        if (outputs[0].bias is not null)
        {
            var biases = stack(outputs.Select(o => o.bias!).ToArray());                                     // (n, H)
            output = output.add(combine.to_type(biases.dtype).matmul(biases));                              // (B, T, H)
        }

        if (state is not null)
        {
            cache!.SetLayerLength(layerIndex, state.Advance(t));
        }

        if (RecordRouting)
        {
            LastRouterLogits = logits.DetachFromDisposeScope();
            LastSelectedExperts = selected.DetachFromDisposeScope();
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the recorded routing tensors this block still owns.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseRouting();
        }

        base.Dispose(disposing);
    }

    // Every expert's projection of every token in one matmul (the dense projection's exact arithmetic for split 1).
    private static Tensor Project(Tensor hiddenStates, Linear[] projections)
    {
        var weight = cat(projections.Select(p => p.weight!).ToArray(), 0);                                 // (n*out, H)
        var bias = projections[0].bias is null ? null : cat(projections.Select(p => p.bias!).ToArray(), 0); // (n*out)
        return nn.functional.linear(hiddenStates, weight, bias);                                            // (B, T, n*out)
    }

    private Tensor AttendExpert(int e, RoutedTokens tokens, (Tensor Queries, Tensor Keys, Tensor Values) projected, Tensor cos, Tensor sin, Tensor? attentionMask, AttentionExpertCache? state, long past)
    {
        var (b, length) = (tokens.Index.shape[0], tokens.Length);
        var expertCos = tokens.Select(cos);                                                                 // (B, L, hd)
        var expertSin = tokens.Select(sin);                                                                 // (B, L, hd)
        var q = tokens.Select(projected.Queries).view(b, length, QueryHeadsPerExpert, HeadDim).transpose(1, 2); // (B, Gq, L, hd)
        var k = tokens.Select(projected.Keys).view(b, length, 1, HeadDim).transpose(1, 2);                 // (B, 1, L, hd)
        var v = tokens.Select(projected.Values).view(b, length, 1, HeadDim).transpose(1, 2);               // (B, 1, L, hd)
        q = RotaryEmbedding.Apply(q, expertCos, expertSin);
        k = RotaryEmbedding.Apply(k, expertCos, expertSin);
        var queryPositions = tokens.Index.add(past);                                                        // (B, L) absolute indices
        var (keyPositions, keyValid) = (queryPositions, tokens.Valid);                                      // (B, S_e)
        if (state is not null)
        {
            (k, v, keyPositions, keyValid) = state.Append(e, k, v, queryPositions, tokens.Valid);          // (B, 1, S_e, hd), (B, S_e)
        }

        var keyCount = keyPositions.shape[1];
        var allowed = keyValid.view(b, 1, 1, keyCount)
            .logical_and(keyPositions.view(b, 1, 1, keyCount).le(queryPositions.view(b, 1, length, 1)));  // (B, 1, L, S_e)
        var bias = attentionMask is null
            ? zeros(allowed.shape, ScalarType.Float32, q.device)                                  // (B, 1, L, S_e)
            : ExpertMask(attentionMask, tokens.Index, keyPositions);                                        // (B, 1, L, S_e)
        bias = bias.masked_fill(allowed.logical_not(), BlockedValue(q.dtype)).to_type(q.dtype);             // (B, 1, L, S_e)
        k = k.expand(b, QueryHeadsPerExpert, keyCount, HeadDim).contiguous();                               // (B, Gq, S_e, hd)
        v = v.expand(b, QueryHeadsPerExpert, keyCount, HeadDim).contiguous();                               // (B, Gq, S_e, hd)
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, bias);                           // (B, Gq, L, hd)
        return attended.transpose(1, 2).reshape(b, length, QueryHeadsPerExpert * HeadDim);                // (B, L, Gq*hd)
    }

    // The caller's additive mask (B|1, 1, T, S) at the expert's query rows and key columns: (B, 1, L, S_e).
    private static Tensor ExpertMask(Tensor attentionMask, Tensor queryIndex, Tensor keyPositions)
    {
        var (b, length, keyCount) = (queryIndex.shape[0], queryIndex.shape[1], keyPositions.shape[1]);
        var mask = attentionMask.to_type(ScalarType.Float32);
        mask = mask.expand(b, 1, mask.shape[2], mask.shape[3]);                                             // (B, 1, T, S)
        var rows = mask.gather(2, queryIndex.view(b, 1, length, 1).expand(b, 1, length, mask.shape[3]));   // (B, 1, L, S)
        return rows.gather(3, keyPositions.view(b, 1, 1, keyCount).expand(b, 1, length, keyCount));        // (B, 1, L, S_e)
    }

    private static double BlockedValue(ScalarType dtype) =>
        dtype == ScalarType.BFloat16 ? -3.3895313892515355e38 : dtype == ScalarType.Float16 ? -65504.0 : float.MinValue;

    private void ReleaseRouting()
    {
        RecordedTensors.DisposeIfOwned(LastRouterLogits);
        RecordedTensors.DisposeIfOwned(LastSelectedExperts);
        LastRouterLogits = null;
        LastSelectedExperts = null;
    }
}
