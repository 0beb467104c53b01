using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Common;

/// <summary>
/// Presents a <see cref="LlamaForCausalLM"/> (dense or with MoE feed-forward blocks) as an
/// <see cref="ICausalLanguageModel"/> for the trainer.
/// </summary>
internal sealed class LlamaLanguageModel : ICausalLanguageModel
{
    private readonly LlamaForCausalLM model;

    /// <summary>Wraps <paramref name="model"/>; the wrapper does not own it.</summary>
    public LlamaLanguageModel(LlamaForCausalLM model)
    {
        this.model = model;
        FeedForwardBlocks = model.Model.Layers.Select(layer => layer.FeedForward).ToList();
    }

    /// <inheritdoc />
    public nn.Module Module => model;

    /// <inheritdoc />
    public IReadOnlyList<FeedForwardBlock> FeedForwardBlocks { get; }

    /// <inheritdoc />
    public Device Device => model.LmHeadWeight.device;

    /// <inheritdoc />
    public Tensor Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask)
    {
        using var output = model.Forward(inputIds, positionIds, attentionMask);
        return output.Logits.alias(); // (B, T, V)
    }
}
