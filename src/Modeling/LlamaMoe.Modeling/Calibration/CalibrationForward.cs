using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>
/// A calibration-mode forward pass of a dense <see cref="LlamaForCausalLM"/> (the same arithmetic as
/// <see cref="LlamaDecoderLayer.Forward"/>) that exposes every layer's MLP input x and SwiGLU intermediate
/// <c>h = SiLU(W_gate x) ⊙ W_up x</c>. With <c>leafIntermediates</c>, each h is replaced by a leaf that requires grad,
/// so a backward pass of the LM loss leaves ∂L/∂h in <c>h.grad</c> (the weights need no gradient).
/// </summary>
internal static class CalibrationForward
{
    /// <summary>Per layer: the MLP input (T, H) and the intermediate (T, I); plus the logits (1, T, V). All in the current dispose scope.</summary>
    public static (Tensor Logits, Tensor[] MlpInputs, Tensor[] Intermediates) Run(LlamaForCausalLM model, Tensor inputIds, bool leafIntermediates)
    {
        var trunk = model.Model;
        var t = inputIds.shape[1];
        var positions = arange(t, device: inputIds.device).unsqueeze(0); // (1, T)
        var hidden = trunk.EmbedTokens.forward(inputIds); // (1, T, D)
        var (cos, sin) = trunk.Rotary.Compute(positions, hidden.dtype); // (1, T, hd)
        var mask = AttentionMasks.Build(t, 0, null, hidden.dtype, hidden.device); // causal
        var layers = trunk.Layers;
        var inputs = new Tensor[layers.Count];
        var intermediates = new Tensor[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var mlp = layer.FeedForward as SwiGluMlp ?? throw new LlamaMoeException(ConstructionErrorCodes.CalibrationArtifactInvalid,
                $"layer {i} is not a dense SwiGLU MLP; calibration runs on the dense model", key: DenseTensorNames.Layer(i), advice: "Calibrate the dense source model.");
            hidden = hidden + layer.Attention.Forward(layer.InputLayerNorm.forward(hidden), cos, sin, mask, null, i); // (1, T, D)
            var x = layer.PostAttentionLayerNorm.forward(hidden); // (1, T, D)
            var h = nn.functional.silu(mlp.GateProj.forward(x)) * mlp.UpProj.forward(x); // (1, T, I)
            if (leafIntermediates)
            {
                h = h.detach().requires_grad_(true);
            }

            inputs[i] = x[0]; // (T, D)
            intermediates[i] = h;
            hidden = hidden + mlp.DownProj.forward(h); // (1, T, D)
        }

        var logits = nn.functional.linear(trunk.Norm.forward(hidden), model.LmHeadWeight); // (1, T, V)
        return (logits, inputs, intermediates);
    }
}
