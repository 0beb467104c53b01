namespace LlamaMoe.Plugins.Common;

/// <summary>Atomic PNG output for ScottPlot plots.</summary>
public static class PlotFiles
{
    /// <summary>Renders <paramref name="plot"/> into a temporary PNG beside <paramref name="path"/> and renames it into place.</summary>
    public static void SavePng(ScottPlot.Plot plot, string path, int width, int height)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, ".tmp-" + Guid.NewGuid().ToString("N") + ".png");
        plot.SavePng(temp, width, height);
        File.Move(temp, path, overwrite: true);
    }
}
