using LlamaMoe.Modeling.Llama;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>The dense model's per-layer attention-output and MLP-output statistics (the alignment targets).</summary>
internal sealed class ReferenceStatistics : IDisposable
{
    public ReferenceStatistics(int hiddenSize, IEnumerable<int> attentionLayers, IEnumerable<int> mlpLayers, Device device)
    {
        Attention = attentionLayers.ToDictionary(layer => layer, _ => new OutputStatistics(hiddenSize, device));
        Mlp = mlpLayers.ToDictionary(layer => layer, _ => new OutputStatistics(hiddenSize, device));
    }

    /// <summary>Attention output statistics, by layer.</summary>
    public Dictionary<int, OutputStatistics> Attention { get; }

    /// <summary>MLP output statistics, by layer.</summary>
    public Dictionary<int, OutputStatistics> Mlp { get; }

    /// <summary>Runs <paramref name="dense"/> over one sequence (the arithmetic of <see cref="LlamaDecoderLayer.Forward"/>) and records its module outputs.</summary>
    public void Record(LlamaForCausalLM dense, int[] ids)
    {
        var last = Attention.Keys.Concat(Mlp.Keys).DefaultIfEmpty(-1).Max();
        using var state = SequenceState.Start(dense.Model, ids);
        for (var i = 0; i <= last; i++)
        {
            var layer = dense.Model.Layers[i];
            var index = i;
            state.Advance(s =>
            {
                var attended = layer.Attention.Forward(layer.InputLayerNorm.forward(s.Hidden), s.Cos, s.Sin, s.Mask, null, index); // (1, T, H)
                Attention.GetValueOrDefault(index)?.Add(attended);
                return attended;
            });
            state.Advance(s =>
            {
                var output = layer.FeedForward.forward(layer.PostAttentionLayerNorm.forward(s.Hidden)); // (1, T, H)
                Mlp.GetValueOrDefault(index)?.Add(output);
                return output;
            });
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var statistics in Attention.Values.Concat(Mlp.Values))
        {
            statistics.Dispose();
        }
    }
}
