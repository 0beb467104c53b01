using LlamaMoe.Modeling.Conversion.Methods;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// The one registry of MoE construction methods: every split method and router initialisation, by name. Both ways in
/// (<c>llama-moe convert</c> through <see cref="ConstructionPlanner"/>, and the <c>split-mlp/*</c> / <c>router-init/*</c>
/// steps) resolve their method here; there is no other list of names.
/// </summary>
public static class ConstructionMethods
{
    private static readonly ISplitMethod[] SplitList =
        [new RandomSplitMethod(), new SequentialSplitMethod(), new ClusteringSplitMethod(), new CoactivationSplitMethod(), new GradientSplitMethod(), new SharingSplitMethod()];

    private static readonly IRouterMethod[] RouterList = [new RandomRouterMethod(), new KMeansRouterMethod(), new TokenRouterMethod()];

    /// <summary>The split method names, in registry order.</summary>
    public static IReadOnlyList<string> SplitNames { get; } = SplitList.Select(m => m.Name).ToArray();

    /// <summary>The router initialisation names, in registry order.</summary>
    public static IReadOnlyList<string> RouterNames { get; } = RouterList.Select(m => m.Name).ToArray();

    /// <summary>The split method called <paramref name="name"/> (LMOE2208 when there is none).</summary>
    public static ISplitMethod Split(string name) =>
        SplitList.FirstOrDefault(m => m.Name == name)
        ?? throw new LlamaMoeException(ConstructionErrorCodes.UnknownMethod, $"unknown split method '{name}'", key: "split", advice: "Use " + string.Join(", ", SplitNames) + ".");

    /// <summary>The router initialisation called <paramref name="name"/> (LMOE2208 when there is none).</summary>
    public static IRouterMethod Router(string name) =>
        RouterList.FirstOrDefault(m => m.Name == name)
        ?? throw new LlamaMoeException(ConstructionErrorCodes.UnknownMethod, $"unknown router initialisation '{name}'", key: "router", advice: "Use " + string.Join(", ", RouterNames) + ".");
}
