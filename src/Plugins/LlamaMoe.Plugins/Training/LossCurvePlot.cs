using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Training;

/// <summary>Draws the training loss curve as a PNG (ScottPlot), written atomically.</summary>
public static class LossCurvePlot
{
    /// <summary>Writes the curve of (step, loss) points to <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<(int Step, double Loss)> points, string path, string title = "training loss")
    {
        var plot = new ScottPlot.Plot();
        if (points.Count > 0)
        {
            var scatter = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Loss).ToArray());
            scatter.LegendText = "LM loss";
        }

        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss (nats/token)");
        PlotFiles.SavePng(plot, path, 900, 540);
    }
}
