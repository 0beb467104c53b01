using LlamaMoe.Modeling.Llama;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>The weights of one dense LLaMA attention, in PyTorch <c>[out, in]</c> layout.</summary>
/// <param name="QProj">q_proj.weight <c>(heads·d, H)</c>.</param>
/// <param name="KProj">k_proj.weight <c>(kv_heads·d, H)</c>.</param>
/// <param name="VProj">v_proj.weight <c>(kv_heads·d, H)</c>.</param>
/// <param name="OProj">o_proj.weight <c>(H, heads·d)</c>.</param>
/// <param name="QBias">q_proj.bias when attention_bias.</param>
/// <param name="KBias">k_proj.bias when attention_bias.</param>
/// <param name="VBias">v_proj.bias when attention_bias.</param>
/// <param name="OBias">o_proj.bias when attention_bias.</param>
public sealed record DenseAttentionWeights(
    Tensor QProj,
    Tensor KProj,
    Tensor VProj,
    Tensor OProj,
    Tensor? QBias = null,
    Tensor? KBias = null,
    Tensor? VBias = null,
    Tensor? OBias = null)
{
    /// <summary>The parameters of <paramref name="attention"/> (the module's own tensors, not copies).</summary>
    public static DenseAttentionWeights From(LlamaAttention attention)
    {
        var parameters = attention.named_parameters().ToDictionary(pair => pair.name, pair => (Tensor)pair.parameter);
        Tensor? Optional(string name) => parameters.GetValueOrDefault(name);
        return new DenseAttentionWeights(
            parameters["q_proj.weight"],
            parameters["k_proj.weight"],
            parameters["v_proj.weight"],
            parameters["o_proj.weight"],
            Optional("q_proj.bias"),
            Optional("k_proj.bias"),
            Optional("v_proj.bias"),
            Optional("o_proj.bias"));
    }
}
