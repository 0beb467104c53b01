using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Import;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Testing;

namespace LlamaMoe.Plugins.Tests;

/// <summary>Inputs shared by the plugin tests.</summary>
internal static class PluginFixtures
{
    /// <summary>A YAML double-quoted scalar.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Adds the imported stories260K model (dense, with tok512) as the input stage <paramref name="stageId"/>.</summary>
    public static ArtifactHandle AddStories260K(ConformanceSandbox sandbox, string stageId = "dense", string kind = ArtifactKinds.DenseModel)
    {
        TorchRuntime.EnsureLoaded();
        return sandbox.AddInput(stageId, kind, directory => ModelImporter.Import(SharedData.Stories260KBin, directory, SharedData.Tok512Model));
    }
}
