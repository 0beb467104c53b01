using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>One axis tick: where it sits in plot coordinates and the text under it.</summary>
/// <param name="Position">Plot coordinate of the tick (the centre of a heatmap cell).</param>
/// <param name="Label">The integer layer or expert number.</param>
public sealed record AxisTick(double Position, string Label);

/// <summary>The ticks of a layers × experts heatmap: experts along x, layers along y.</summary>
/// <param name="Experts">Ticks of the x axis, one per expert (thinned out past <see cref="ExpertUsageHeatmap.MaxTicksPerAxis"/>).</param>
/// <param name="Layers">Ticks of the y axis, one per layer (thinned out the same way).</param>
public sealed record HeatmapTicks(IReadOnlyList<AxisTick> Experts, IReadOnlyList<AxisTick> Layers);

/// <summary>
/// Draws a layers × experts heatmap of load fractions (ScottPlot PNG, written atomically). ScottPlot puts cell centres on
/// integer coordinates (row 0 at the top), so its automatic ticks land on cell edges (-0.5, 0.5, ...); the axes here carry
/// one integer tick per layer and expert at the cell centres instead.
/// </summary>
public static class ExpertUsageHeatmap
{
    /// <summary>Above this many layers or experts only every n-th one is labelled, so the labels stay legible.</summary>
    public const int MaxTicksPerAxis = 32;

    /// <summary>The title word of a router kind: <c>MLP</c> or <c>attention</c>.</summary>
    public static string RouterName(RouterKind kind) => kind == RouterKind.Mlp ? "MLP" : "attention";

    /// <summary>The plot title for <paramref name="stage"/>'s <paramref name="kind"/> router, e.g. <c>stage2: MLP expert usage</c>.</summary>
    public static string Title(string stage, RouterKind kind) => $"{stage}: {RouterName(kind)} expert usage";

    /// <summary>
    /// The ticks for <paramref name="layers"/> rows and <paramref name="experts"/> columns: expert e at x = e, layer l at
    /// y = layers - 1 - l (ScottPlot draws row 0 at the top), each labelled with its integer number.
    /// </summary>
    public static HeatmapTicks Ticks(int layers, int experts) =>
        new(Numbers(experts).Select(e => new AxisTick(e, e.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList(),
            Numbers(layers).Select(l => new AxisTick(layers - 1 - l, l.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList());

    /// <summary>Writes the heatmap of <paramref name="layers"/> to <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<LayerRoutingStatistics> layers, string path, string title)
    {
        var plot = Build(layers, title);
        PlotFiles.SavePng(plot, path, 900, Math.Max(400, 60 + 30 * layers.Count));
    }

    /// <summary>The plot <see cref="Write"/> saves (heatmap, colour bar, integer ticks, title and axis labels).</summary>
    internal static ScottPlot.Plot Build(IReadOnlyList<LayerRoutingStatistics> layers, string title)
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
        if (layers.Count > 0 && experts > 0)
        {
            var heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heatmap);
            var ticks = Ticks(layers.Count, experts);
            plot.Axes.Bottom.SetTicks(ticks.Experts.Select(t => t.Position).ToArray(), ticks.Experts.Select(t => t.Label).ToArray());
            plot.Axes.Left.SetTicks(ticks.Layers.Select(t => t.Position).ToArray(), ticks.Layers.Select(t => t.Label).ToArray());
            plot.Axes.SetLimits(-0.5, experts - 0.5, -0.5, layers.Count - 0.5);
        }

        plot.Title(title);
        plot.XLabel("expert");
        plot.YLabel("layer");
        return plot;
    }

    private static IEnumerable<int> Numbers(int count)
    {
        var step = Math.Max(1, (count + MaxTicksPerAxis - 1) / MaxTicksPerAxis);
        return Enumerable.Range(0, count).Where(i => i % step == 0 || i == count - 1);
    }
}
