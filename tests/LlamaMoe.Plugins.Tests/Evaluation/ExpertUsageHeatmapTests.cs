using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Plugins.Evaluation;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Evaluation;

public sealed class ExpertUsageHeatmapTests
{
    [Test]
    public void TicksAreIntegerLayerAndExpertNumbersAtCellCentres()
    {
        var ticks = ExpertUsageHeatmap.Ticks(layers: 5, experts: 4);
        Assert.That(ticks.Experts.Select(t => t.Position), Is.EqualTo(new double[] { 0, 1, 2, 3 }));
        Assert.That(ticks.Experts.Select(t => t.Label), Is.EqualTo(new[] { "0", "1", "2", "3" }));
        Assert.That(ticks.Layers.Select(t => t.Label), Is.EqualTo(new[] { "0", "1", "2", "3", "4" }));
        Assert.That(ticks.Layers.Select(t => t.Position), Is.EqualTo(new double[] { 4, 3, 2, 1, 0 }), "row 0 (layer 0) is drawn at the top");
    }

    [Test]
    public void EveryTickSitsOnTheCellOfTheLayerAndExpertItNames()
    {
        // Distinct values per cell: layer l, expert e holds l + e / 10.
        var layers = Enumerable.Range(0, 3).Select(l => new LayerRoutingStatistics(l, Enumerable.Range(0, 4).Select(e => l + e / 10.0).ToArray(), 0, 1)).ToList();
        var plot = ExpertUsageHeatmap.Build(layers, "t");
        var heatmap = plot.GetPlottables().OfType<ScottPlot.Plottables.Heatmap>().Single();
        plot.RenderInMemory(600, 400); // the ticks as rendered
        var bottom = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
        var left = plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
        TestContext.Out.WriteLine(string.Join(", ", bottom.Select(t => $"{t.Position}:{t.Label}")) + " | " + string.Join(", ", left.Select(t => $"{t.Position}:{t.Label}")));
        Assert.That(bottom.Select(t => t.Label), Is.EqualTo(new[] { "0", "1", "2", "3" }));
        Assert.That(left.Select(t => t.Label), Is.EquivalentTo(new[] { "0", "1", "2" }));
        foreach (var x in bottom)
        {
            foreach (var y in left)
            {
                var value = heatmap.GetValue(new ScottPlot.Coordinates(x.Position, y.Position));
                Assert.That(value, Is.EqualTo(int.Parse(y.Label) + int.Parse(x.Label) / 10.0).Within(1e-9), $"tick expert {x.Label}, layer {y.Label}");
            }
        }
    }

    [Test]
    public void ManyExpertsAreLabelledSparselyButStillWithIntegers()
    {
        var ticks = ExpertUsageHeatmap.Ticks(layers: 2, experts: 128);
        Assert.That(ticks.Experts, Has.Count.LessThanOrEqualTo(ExpertUsageHeatmap.MaxTicksPerAxis + 1));
        Assert.That(ticks.Experts.First().Label, Is.EqualTo("0"));
        Assert.That(ticks.Experts.Last().Label, Is.EqualTo("127"));
        Assert.That(ticks.Experts.All(t => t.Position == Math.Floor(t.Position) && t.Label == t.Position.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void TitleNamesTheMlpRouterInCapitals()
    {
        Assert.That(ExpertUsageHeatmap.Title("stage2", RouterKind.Mlp), Is.EqualTo("stage2: MLP expert usage"));
        Assert.That(ExpertUsageHeatmap.Title("stage2", RouterKind.Attention), Is.EqualTo("stage2: attention expert usage"));
    }
}
