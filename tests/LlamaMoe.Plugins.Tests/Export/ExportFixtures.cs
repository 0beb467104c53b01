using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Testing;

namespace LlamaMoe.Plugins.Tests.Export;

/// <summary>Native MoE models made from stories260K for the export tests.</summary>
internal static class ExportFixtures
{
    /// <summary>
    /// Imports stories260K (with tok512) into <paramref name="denseDirectory"/> and converts it into a native MoE in
    /// <paramref name="moeDirectory"/>: 4 sequential experts top-2, or with <paramref name="residual"/> a residual expert and 3 routed top-1.
    /// </summary>
    public static void WriteStoriesMoe(string denseDirectory, string moeDirectory, bool residual = false)
    {
        TorchRuntime.EnsureLoaded();
        if (!File.Exists(Path.Combine(denseDirectory, "config.json")))
        {
            ModelImporter.Import(SharedData.Stories260KBin, denseDirectory, SharedData.Tok512Model);
        }

        var options = residual ? new ConstructionOptions(3, 1, "sequential", ResidualExperts: 1, Seed: 1) : new ConstructionOptions(4, 2, "sequential", Seed: 1);
        var plans = ConstructionPlanner.Plan(denseDirectory, options, null);
        MoeConverter.Convert(denseDirectory, moeDirectory, plans, ConstructionPlanner.ConversionOptions(options));
    }
}
