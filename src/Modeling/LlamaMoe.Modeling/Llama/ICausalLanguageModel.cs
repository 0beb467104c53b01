using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// What the trainer and the evaluators need of a causal language model, independent of its concrete class
/// (the dense LLaMA, the MoE model, or a test model).
/// </summary>
public interface ICausalLanguageModel
{
    /// <summary>The module that owns every parameter; its <c>named_parameters()</c> names are the checkpoint keys.</summary>
    nn.Module Module { get; }

    /// <summary>The feed-forward slot of every decoder layer, in layer order (dense or MoE).</summary>
    IReadOnlyList<FeedForwardBlock> FeedForwardBlocks { get; }

    /// <summary>The device the parameters live on.</summary>
    Device Device { get; }

    /// <summary>
    /// Runs the model. <paramref name="inputIds"/> is <c>(B, T)</c> int64; <paramref name="positionIds"/> is
    /// <c>(B, T)</c> int64 or null for 0..T-1; <paramref name="attentionMask"/> is a bool <c>(B, 1, T, T)</c> mask
    /// (true = may attend) or null for the plain causal mask. Returns logits <c>(B, T, V)</c>.
    /// </summary>
    Tensor Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask);
}
