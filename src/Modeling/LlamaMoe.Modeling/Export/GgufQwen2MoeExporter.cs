using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Exports the residual variant (one always-on residual expert plus E routed experts, top-k) to GGUF for llama.cpp's
/// <c>qwen2moe</c> architecture: <c>qwen2moe.*</c> hyper-parameters with <c>expert_count</c>, <c>expert_used_count</c>,
/// <c>expert_feed_forward_length</c> and <c>expert_shared_feed_forward_length</c>; per layer the router
/// <c>ffn_gate_inp</c>, the routed experts stacked into <c>ffn_{gate,up,down}_exps</c> (each layer's scale folded into
/// down) and the residual expert as <c>ffn_{gate,up,down}_shexp</c>. q/k rows stay in the Hugging Face layout (qwen2moe
/// uses NEOX rope); <c>output.weight</c> is always written (qwen2moe requires it, so tied embeddings are duplicated).
/// </summary>
/// <remarks>
/// <para><b>Shared-expert gate.</b> llama.cpp scales the shared expert by σ(g·x) (<c>ffn_gate_inp_shexp</c>, x the normed
/// layer input); ours is always on with weight 1. The Hugging Face export (<see cref="Qwen2MoeFormat"/>) zeroes the gate
/// (σ(0) = ½) and doubles the shared down projection. llama.cpp evaluates that sigmoid as silu(z)/z, which is 0/0 = NaN at
/// z = 0, so a zero gate cannot be used here. The gate is instead a single weight c on the coordinate k where the layer's
/// <c>ffn_norm</c> weight γ is largest in magnitude, with c = 10⁻⁸ / (√H·|γ_k|): since |x_k| ≤ √H·|γ_k| after RMS
/// normalisation, |z| ≤ 10⁻⁸, where σ(z) = ½ + z/4 rounds to exactly ½ in float32; the shared down projection is doubled
/// as in the Hugging Face export. Only a token whose x_k is exactly zero would see z = 0.</para>
/// <para><b>Routing.</b> qwen2moe weights the top-k experts by the softmax over all E logits without renormalising them, which
/// is our <see cref="RoutingWeights.Softmax"/>; renormalised weights are the same only when top-k = E (LMOE1225 otherwise).</para>
/// </remarks>
public static class GgufQwen2MoeExporter
{
    /// <summary>The llama.cpp architecture name.</summary>
    public const string Architecture = "qwen2moe";

    /// <summary>The bound on |g·x| that makes σ round to exactly ½ in float32 (see remarks).</summary>
    public const double SharedGateBound = 1e-8;

    /// <summary>Exports a residual MoE checkpoint tensor by tensor (LMOE1202, LMOE121x, LMOE1223 or LMOE1225 when it does not fit).</summary>
    public static void Export(MoeCheckpoint checkpoint, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32)
    {
        RequireCompatible(checkpoint);
        var layout = checkpoint.Config;
        var config = layout.Dense;
        var writer = new GgufWriter();
        GgufModelTensors.AddHyperParameters(writer, Architecture, config, config.IntermediateSize);
        writer.AddUInt32($"{Architecture}.expert_count", (uint)layout.ExpertCount);
        writer.AddUInt32($"{Architecture}.expert_used_count", (uint)layout.TopK);
        writer.AddUInt32($"{Architecture}.expert_feed_forward_length", (uint)layout.ExpertSizes[0][0]);
        writer.AddUInt32($"{Architecture}.expert_shared_feed_forward_length", (uint)layout.ResidualSize);
        if (tokenizerDirectory is not null)
        {
            GgufTokenizerMetadata.Add(writer, tokenizerDirectory, config);
        }

        var embedding = checkpoint.Entry(DenseTensorNames.Embedding);
        writer.AddTensor(embedding with { Name = GgufTensorNames.Embedding }, type);
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            GgufModelTensors.AddAttentionAndNorms(writer, checkpoint.Entry, config, i, type, interleaveRope: false);
            GgufModelTensors.AddRoutedExperts(writer, checkpoint.Entry, layout, i, type);

            writer.AddTensor(SharedGate(checkpoint, i), GgufTensorType.F32); // (H)
            foreach (var (gguf, w) in GgufTensorNames.SharedExpert)
            {
                // (r, H) for gate/up, (H, r) for down, doubled against σ = ½
                writer.AddTensor(CheckpointTensors.Scaled(checkpoint.Entry(MoeTensorNames.Residual(i, w)), w == "w2" ? 2.0 : 1.0, GgufTensorNames.Block(i, gguf)), type);
            }
        }

        writer.AddTensor(checkpoint.Entry(DenseTensorNames.FinalNorm) with { Name = GgufTensorNames.FinalNorm }, GgufTensorType.F32);
        var output = config.TieWordEmbeddings ? embedding : checkpoint.Entry(DenseTensorNames.LmHead);
        writer.AddTensor(output with { Name = GgufTensorNames.Output }, type);
        writer.Write(path);
    }

    /// <summary>
    /// The shared-expert gate vector of a layer (float32, (H)): zero except c = 10⁻⁸ / (√H·|γ_k|) at the coordinate k of the
    /// largest |γ| of the layer's <c>post_attention_layernorm</c> weight γ (<paramref name="ffnNormWeight"/>).
    /// </summary>
    public static Tensor SharedGateVector(Tensor ffnNormWeight)
    {
        using var scope = NewDisposeScope();
        var gamma = ffnNormWeight.to_type(ScalarType.Float32).abs(); // (H)
        var k = gamma.argmax().item<long>();
        var largest = gamma[k].item<float>();
        var hidden = gamma.shape[0];
        var c = (float)(SharedGateBound / (Math.Sqrt(hidden) * (largest > 0 ? largest : 1.0f)));
        var gate = zeros(hidden, ScalarType.Float32);
        gate[k] = c;
        return gate.MoveToOuterDisposeScope();
    }

    /// <summary>Throws when the checkpoint has no exact qwen2moe form (see the class remarks for the routing condition).</summary>
    public static void RequireCompatible(MoeCheckpoint checkpoint)
    {
        var layout = checkpoint.Config;
        if (layout.ResidualSize <= 0)
        {
            throw new LlamaMoeException(ExportErrorCodes.QwenNotExpressible, "the model cannot be exported to GGUF as qwen2moe: it has no residual (shared) expert",
                key: "format", advice: "Models without a residual expert are exported with the llama architecture.");
        }

        GgufModelTensors.RequireExpressibleAttention(layout.Dense, Architecture);
        MoeExportChecks.RequireMixtralCompatible(checkpoint, "gguf (qwen2moe)", allowResidual: true, anyRoutingWeights: true);
        var weights = layout.Router.Weights;
        var renormalised = weights is RoutingWeights.SoftmaxRenormalized or RoutingWeights.SoftmaxOverTopK;
        if (!(weights == RoutingWeights.Softmax || (renormalised && layout.TopK == layout.ExpertCount)))
        {
            throw new LlamaMoeException(ExportErrorCodes.GgufRoutingNotExpressible,
                $"the model cannot be exported to GGUF as qwen2moe: its routing weights are {MoeRouterSpec.WeightsName(weights)} with top-{layout.TopK} of {layout.ExpertCount}, "
                + "but llama.cpp's qwen2moe weights the top-k experts by the softmax over all experts without renormalising",
                key: "router.weights", advice: "Construct the MoE with softmax routing weights (not renormalised), or export to qwen2-moe or native.");
        }
    }

    private static StreamedTensor SharedGate(MoeCheckpoint checkpoint, int layer)
    {
        var norm = checkpoint.Entry(DenseTensorNames.InLayer(layer, "post_attention_layernorm.weight"));
        return new StreamedTensor(GgufTensorNames.Block(layer, GgufTensorNames.SharedExpertGate), ScalarType.Float32, [checkpoint.Config.Dense.HiddenSize], () =>
        {
            using var scope = NewDisposeScope();
            return SharedGateVector(norm.Produce()).MoveToOuterDisposeScope();
        });
    }
}
