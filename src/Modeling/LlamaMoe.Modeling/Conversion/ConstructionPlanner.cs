using LlamaMoe.Construction;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// Turns <see cref="ConstructionOptions"/> (+ calibration statistics) into per-layer <see cref="MoeLayerPlan"/>s and
/// <see cref="MoeConversionOptions"/> for <see cref="MoeConverter"/>. Reads the dense MLP weights a layer at a time
/// (only when the split method asks for them). Split and router methods come from <see cref="ConstructionMethods"/>.
/// </summary>
public static class ConstructionPlanner
{
    /// <summary>The calibration to run for <paramref name="options"/>, or null when none is needed.</summary>
    public static CalibrationOptions? CalibrationFor(ConstructionOptions options, int maxHiddenStates = 4096) =>
        options.NeedsCalibration
            ? new CalibrationOptions(maxHiddenStates, options.Seed, options.NeedsCoactivation, options.NeedsCentroids ? options.Experts : 0)
            : null;

    /// <summary>The converter options for <paramref name="options"/>.</summary>
    public static MoeConversionOptions ConversionOptions(ConstructionOptions options, bool overwrite = false) =>
        new(options.TopK, options.EffectiveScaleFactor, new MoeRouterSpec(options.Network, options.Weights), options.ContractFirst, options.ContractLast, Overwrite: overwrite);

    /// <summary>Plans every MoE layer of the dense model in <paramref name="denseDirectory"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2207 when calibration is needed but missing; LMOE2208 for unknown names; LMOE2212 for bad sizes.</exception>
    public static IReadOnlyDictionary<int, MoeLayerPlan> Plan(string denseDirectory, ConstructionOptions options, CalibrationArtifact? calibration)
    {
        Check(options, calibration);
        var config = LlamaConfigJson.Read(Path.Combine(denseDirectory, ModelDirectory.ConfigFileName));
        calibration?.CheckMatches(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize);
        var layers = ConversionOptions(options).MoeLayers(config.NumHiddenLayers);
        var split = ConstructionMethods.Split(options.Split);
        var router = ConstructionMethods.Router(options.Router);
        using var rows = new DenseMlpRows(denseDirectory);
        var plans = new Dictionary<int, MoeLayerPlan>();
        foreach (var layer in layers)
        {
            var stats = calibration?.Layers[layer];
            var seed = ConstructionSeed.ForLayer(options.Seed, layer);
            var request = new SplitRequest(layer, config.IntermediateSize, config.HiddenSize, options.Experts, seed, stats is null ? null : stats.Statistics(), matrix => rows.Read(layer, matrix))
            {
                ResidualExperts = options.ResidualExperts,
                Settings = SplitSettings.Default with { SharingExpertSize = options.SharingExpertSize },
            };
            var partition = split.Split(request);
            var weight = router.Initialize(new RouterRequest(layer, options.Experts, config.HiddenSize, seed, stats));
            weight.Assignment?.Dispose();
            plans[layer] = new MoeLayerPlan(partition, weight.Weight);
        }

        return plans;
    }

    /// <summary>Checks the names and that the needed calibration statistics are present.</summary>
    public static void Check(ConstructionOptions options, CalibrationArtifact? calibration)
    {
        Check(options, calibration is not null);
        var missing = calibration?.Layers.FirstOrDefault(l =>
            (options.NeedsCentroids && (l.Centroids is null || l.Centroids.shape[0] != options.Experts))
            || (options.NeedsImportance && l.Importance is null)
            || (options.NeedsCoactivation && l.Coactivation is null));
        if (missing is not null)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationRequired, "the calibration lacks the statistics this split or router needs (centroids for E clusters, importance or co-activation)",
                key: "calibration", advice: "Re-run calibration with ConstructionPlanner.CalibrationFor(options).");
        }
    }

    /// <summary>Checks the names and options, and that calibration is given when the split or router needs it (before any model is loaded).</summary>
    public static void Check(ConstructionOptions options, bool hasCalibration)
    {
        var split = ConstructionMethods.Split(options.Split);
        ConstructionMethods.Router(options.Router);

        if (options.Experts < 1 || options.TopK < 1 || options.TopK > options.Experts || options.ResidualExperts < 0)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions, $"need 1 ≤ top-k ({options.TopK}) ≤ experts ({options.Experts}) and a non-negative residual",
                key: "experts", advice: "Fix --experts / --top-k / --residual.");
        }

        if (!split.SupportsResidual && options.ResidualExperts > 0)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions, $"the {split.Name} split has no residual variant", key: "residual", advice: "Drop --residual or use the gradient split.");
        }

        if (options.NeedsCalibration && !hasCalibration)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationRequired,
                $"split '{options.Split}' with router '{options.Router}' needs calibration statistics", key: "calibration",
                advice: "Pass --calibration FILE (and --calibration-format), or use the random/sequential/clustering split with the random router.");
        }
    }
}
