using LlamaMoe.Modeling;
using LlamaMoe.Plugins.Construction;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

internal static class RouterFixtures
{
    /// <summary>Writes a router-weights artifact of seeded normal (E, H) matrices.</summary>
    public static void Write(string directory, int layers, int experts, int hidden, int seed = 5)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        RouterWeightsArtifact.Write(directory, "fixture", Enumerable.Range(0, layers).Select(_ => randn(new long[] { experts, hidden }, generator: generator)).ToList());
    }
}
