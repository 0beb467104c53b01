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

/// <summary>Draws a layers × experts heatmap of load fractions (ScottPlot PNG, written atomically).</summary>
public static class ExpertUsageHeatmap
{
    /// <summary>Writes the heatmap of <paramref name="layers"/> to <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<LayerRoutingStatistics> layers, string path, string title)
    {
        var experts = layers.Count == 0 ? 0 : layers.Max(l => l.LoadFractions.Length);
        var values = new double[layers.Count, experts];
        for (var l = 0; l < layers.Count; l++)
        {
            for (var e = 0; e < layers[l].LoadFractions.Length; e++)
            {
                values[l, e] = layers[l].LoadFractions[e];
            }
        }

        var plot = new ScottPlot.Plot();
        if (layers.Count > 0)
        {
            var heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heatmap);
        }

        plot.Title(title);
        plot.XLabel("expert");
        plot.YLabel("layer");
        PlotFiles.SavePng(plot, path, 900, Math.Max(400, 60 + 30 * layers.Count));
    }
}
