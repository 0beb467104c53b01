using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>The weights of one dense SwiGLU MLP, in PyTorch <c>[out, in]</c> layout.</summary>
/// <param name="GateProj">gate_proj.weight <c>(I, H)</c>.</param>
/// <param name="UpProj">up_proj.weight <c>(I, H)</c>.</param>
/// <param name="DownProj">down_proj.weight <c>(H, I)</c>.</param>
/// <param name="GateBias">gate_proj.bias <c>(I)</c> when mlp_bias.</param>
/// <param name="UpBias">up_proj.bias <c>(I)</c> when mlp_bias.</param>
/// <param name="DownBias">down_proj.bias <c>(H)</c> when mlp_bias.</param>
public sealed record DenseMlpWeights(Tensor GateProj, Tensor UpProj, Tensor DownProj, Tensor? GateBias = null, Tensor? UpBias = null, Tensor? DownBias = null);
