using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Testing;

namespace LlamaMoe.Plugins.Tests;

/// <summary>Inputs shared by the plugin tests.</summary>
internal static class PluginFixtures
{
    /// <summary>A YAML double-quoted scalar.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// The stages <c>dense</c> (stories260K imported), <c>split</c> (sequential, 4 experts), <c>router</c> (random) and
    /// <c>moe</c> (top-2) as YAML lines under <c>stages:</c> (two-space indent), for pipelines that need a small MoE first.
    /// </summary>
    public static string SequentialStoriesMoeStages => $$"""
          dense:
            uses: import
            with: { source: {{Quote(SharedData.Stories260KBin)}}, tokenizer: {{Quote(SharedData.Tok512Model)}} }
          split:
            uses: split-mlp/sequential
            needs: [dense]
            with: { experts: 4 }
          router:
            uses: router-init/random
            needs: [dense]
            with: { experts: 4 }
          moe:
            uses: build-moe
            needs: [dense, split, router]
            with: { top-k: 2 }
        """;

    /// <summary>Adds the imported stories260K model (dense, with tok512) as the input stage <paramref name="stageId"/>.</summary>
    public static ArtifactHandle AddStories260K(ConformanceSandbox sandbox, string stageId = "dense", string kind = ArtifactKinds.DenseModel)
    {
        TorchRuntime.EnsureLoaded();
        return sandbox.AddInput(stageId, kind, directory => ModelImporter.Import(SharedData.Stories260KBin, directory, SharedData.Tok512Model));
    }
}
