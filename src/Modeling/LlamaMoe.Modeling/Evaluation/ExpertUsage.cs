using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>Which router a routing record comes from.</summary>
public enum RouterKind
{
    /// <summary>The MLP (feed-forward) MoE router.</summary>
    Mlp,

    /// <summary>The attention MoE router (v2 attention experts).</summary>
    Attention,
}

/// <summary>
/// Accumulates routing records (router logits <c>(N, E)</c> and selections <c>(N, K)</c> per layer) over an
/// evaluation and reports, per router kind and layer, the fraction of routing slots each expert received and the
/// mean routing entropy.
/// </summary>
public sealed class ExpertUsageCollector
{
    private readonly Dictionary<(RouterKind, int), List<LayerRoutingStatistics>> parts = [];

    /// <summary>Adds one record.</summary>
    public void Add(RouterKind kind, int layer, Tensor logits, Tensor selected, Tensor? tokenMask = null)
    {
        var key = (kind, layer);
        if (!parts.TryGetValue(key, out var list))
        {
            parts[key] = list = [];
        }

        list.Add(LayerRoutingStatistics.Compute(layer, logits, selected, tokenMask));
    }

    /// <summary>Adds the records of every MLP block that recorded routing in its latest forward pass.</summary>
    public void AddFrom(IReadOnlyList<FeedForwardBlock> blocks, Tensor? tokenMask = null)
    {
        for (var layer = 0; layer < blocks.Count; layer++)
        {
            if (blocks[layer].LastRouterLogits is { IsInvalid: false } logits && blocks[layer].LastSelectedExperts is { IsInvalid: false } selected)
            {
                Add(RouterKind.Mlp, layer, logits, selected, tokenMask);
            }
        }
    }

    /// <summary>The merged statistics of one router kind, by layer.</summary>
    public IReadOnlyList<LayerRoutingStatistics> Statistics(RouterKind kind) =>
        parts.Where(p => p.Key.Item1 == kind).OrderBy(p => p.Key.Item2).Select(p => LayerRoutingStatistics.Merge(p.Value)).ToList();

    /// <summary>The router kinds seen.</summary>
    public IReadOnlyList<RouterKind> Kinds => parts.Keys.Select(k => k.Item1).Distinct().Order().ToList();
}
