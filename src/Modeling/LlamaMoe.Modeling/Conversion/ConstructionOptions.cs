using LlamaMoe.Construction;
using LlamaMoe.Modeling.Moe;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>How to construct an MoE from a dense model (what <c>llama-moe convert</c> takes).</summary>
/// <param name="Experts">Routed experts E per MoE layer.</param>
/// <param name="TopK">Experts per token k.</param>
/// <param name="Split">Split method: random, sequential, clustering, coactivation, gradient or sharing.</param>
/// <param name="Router">Router initialisation: random (Kaiming uniform), kmeans (calibration centroids) or tokens (random calibration tokens).</param>
/// <param name="ResidualExperts">Shares of m = I/(E+N) given to the always-on residual expert (0 = none; v2: 1 with 7 routed).</param>
/// <param name="ContractFirst">Leading layers kept dense.</param>
/// <param name="ContractLast">Trailing layers kept dense.</param>
/// <param name="ScaleFactor">Scale of the routed experts; null for the default: E/k without residual, 1.0 with one (v2's values).</param>
/// <param name="Seed">Seed of every split and router: layer l uses <see cref="LlamaMoe.Construction.ConstructionSeed.ForLayer"/>(seed, l).</param>
/// <param name="Weights">Routing weights written to the config (v2: softmax renormalised over the top-k).</param>
/// <param name="Network">Router network.</param>
/// <param name="SharingExpertSize">Neurons per expert for the sharing split; null for I/E.</param>
public sealed record ConstructionOptions(
    int Experts,
    int TopK,
    string Split,
    string Router = "random",
    int ResidualExperts = 0,
    int ContractFirst = 0,
    int ContractLast = 0,
    double? ScaleFactor = null,
    int Seed = 0,
    RoutingWeights Weights = RoutingWeights.SoftmaxRenormalized,
    RouterNetwork Network = RouterNetwork.Linear,
    int? SharingExpertSize = null)
{
    /// <summary>The split method names.</summary>
    public static IReadOnlyList<string> SplitMethods => ConstructionMethods.SplitNames;

    /// <summary>The router initialisation names.</summary>
    public static IReadOnlyList<string> RouterInitializations => ConstructionMethods.RouterNames;

    /// <summary>The scale factor used: <see cref="ScaleFactor"/> or the default.</summary>
    public double EffectiveScaleFactor => ScaleFactor ?? (ResidualExperts > 0 ? 1.0 : (double)Experts / TopK);

    /// <summary>Whether the split or router needs per-cluster importance (a backward pass).</summary>
    public bool NeedsImportance => ConstructionMethods.Split(Split).NeedsImportance;

    /// <summary>Whether the router or split needs cluster centroids.</summary>
    public bool NeedsCentroids => NeedsImportance || ConstructionMethods.Router(Router).NeedsCentroids;

    /// <summary>Whether the split needs the co-activation graph.</summary>
    public bool NeedsCoactivation => ConstructionMethods.Split(Split).NeedsCoactivation;

    /// <summary>Whether any calibration statistics are needed.</summary>
    public bool NeedsCalibration => NeedsCentroids || NeedsCoactivation || ConstructionMethods.Router(Router).NeedsCalibration;
}
