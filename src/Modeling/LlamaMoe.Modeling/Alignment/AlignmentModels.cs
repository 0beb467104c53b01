using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>Copies of an MoE model for alignment, optionally with the biases the mean shift is folded into.</summary>
internal static class AlignmentModels
{
    /// <summary>
    /// A copy of <paramref name="moe"/> (same dtype and device) whose config sets <c>mlp_bias</c> / <c>attention_bias</c> when
    /// asked; every parameter of <paramref name="moe"/> is copied and every new bias is zero, so the copy computes the same function.
    /// </summary>
    public static LlamaForCausalLM WithBiases(LlamaForCausalLM moe, bool mlpBias, bool attentionBias)
    {
        var config = moe.Config with { MlpBias = moe.Config.MlpBias || mlpBias, AttentionBias = moe.Config.AttentionBias || attentionBias };
        var weight = moe.LmHeadWeight;
        var copy = new LlamaForCausalLM(config, MoeModelFactory.Factories(MoeConfig.FromLlamaConfig(config)));
        try
        {
            copy.to(weight.dtype).to(weight.device);
            var source = StateDictLoader.NamedTensors(moe).ToDictionary(pair => pair.Key, pair => pair.Value);
            using var noGrad = no_grad();
            foreach (var (name, tensor) in StateDictLoader.NamedTensors(copy))
            {
                if (source.TryGetValue(name, out var value) && value.shape.SequenceEqual(tensor.shape))
                {
                    tensor.copy_(value);
                }
                else if (name.EndsWith(".bias", StringComparison.Ordinal))
                {
                    tensor.zero_();
                }
                else
                {
                    throw new LlamaMoeException(AlignmentErrors.ModelMismatch, $"the copy of the MoE model has a tensor '{name}' the model lacks", key: name,
                        advice: "Load the MoE model from its directory (CausalLanguageModelLoader.Load) before aligning it.");
                }
            }

            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }
}
