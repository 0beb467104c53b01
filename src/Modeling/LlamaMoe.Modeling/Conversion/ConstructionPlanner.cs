using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.MoeModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// Turns <see cref="ConstructionOptions"/> (+ calibration statistics) into per-layer <see cref="MoeLayerPlan"/>s and
/// <see cref="MoeConversionOptions"/> for <see cref="MoeConverter"/>. Reads the dense MLP weights a layer at a time
/// (only the clustering split needs them).
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
        using var checkpoint = options.Split == "clustering" ? ShardedCheckpoint.Open(denseDirectory) : null;
        var plans = new Dictionary<int, MoeLayerPlan>();
        foreach (var layer in layers)
        {
            var stats = calibration?.Layers[layer];
            var partition = SplitLayer(options, config, layer, stats, checkpoint);
            plans[layer] = new MoeLayerPlan(partition, RouterWeight(options, config.HiddenSize, layer, stats));
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
        if (!ConstructionOptions.SplitMethods.Contains(options.Split))
        {
            throw Unknown($"unknown split method '{options.Split}'", "split", "Use " + string.Join(", ", ConstructionOptions.SplitMethods) + ".");
        }

        if (!ConstructionOptions.RouterInitializations.Contains(options.Router))
        {
            throw Unknown($"unknown router initialisation '{options.Router}'", "router", "Use random, kmeans or tokens.");
        }

        if (options.Experts < 1 || options.TopK < 1 || options.TopK > options.Experts || options.ResidualExperts < 0)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions, $"need 1 ≤ top-k ({options.TopK}) ≤ experts ({options.Experts}) and a non-negative residual",
                key: "experts", advice: "Fix --experts / --top-k / --residual.");
        }

        if (options.Split == "sharing" && options.ResidualExperts > 0)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions, "the sharing split has no residual variant", key: "residual", advice: "Drop --residual or use the gradient split.");
        }

        if (options.NeedsCalibration && !hasCalibration)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationRequired,
                $"split '{options.Split}' with router '{options.Router}' needs calibration statistics", key: "calibration",
                advice: "Pass --calibration FILE (and --calibration-format), or use the random/sequential/clustering split with the random router.");
        }
    }

    private static ExpertPartition SplitLayer(ConstructionOptions options, LlamaConfig config, int layer, LayerCalibration? stats, ShardedCheckpoint? checkpoint)
    {
        var neurons = config.IntermediateSize;
        var shares = options.Experts + options.ResidualExperts;
        var seed = options.Seed + layer;
        switch (options.Split)
        {
            case "gradient":
                return options.ResidualExperts > 0
                    ? GradientSplit.GreedyWithResidual(stats!.ImportanceArrays()!, options.ResidualExperts)
                    : GradientSplit.Greedy(stats!.ImportanceArrays()!);
            case "sharing":
                return GradientSplit.Sharing(stats!.ImportanceArrays()!, options.SharingExpertSize ?? neurons / options.Experts);
            case "random":
                return WithResidual(SimpleSplits.Random(neurons, shares, seed), options, stats);
            case "sequential":
                return WithResidual(SimpleSplits.Sequential(neurons, shares), options, stats);
            case "coactivation":
                return WithResidual(CoactivationSplit.Split(stats!.CoactivationArray()!, neurons, shares, seed), options, stats);
            default:
                {
                    float[] rows;
                    using (var scope = NewDisposeScope())
                    {
                        rows = checkpoint!.Read($"model.layers.{layer}.mlp.up_proj.weight").to(ScalarType.Float32).contiguous().data<float>().ToArray(); // (I, H)
                    }

                    return WithResidual(ClusteringSplit.Split(rows, neurons, config.HiddenSize, shares, seed), options, stats);
                }
        }
    }

    /// <summary>
    /// From E+N balanced sets, makes the N smallest sets that fire most often (by calibration; the last N without it)
    /// the residual expert and keeps the other E as routed experts.
    /// </summary>
    private static ExpertPartition WithResidual(ExpertPartition sets, ConstructionOptions options, LayerCalibration? stats)
    {
        if (options.ResidualExperts == 0)
        {
            return sets;
        }

        // Larger sets first, so the residual always takes sets of the same (smallest) size and every layer gets the
        // same intermediate_size_residual; among equal sizes, the most active sets become the residual.
        var frequency = stats?.ActiveFrequency.data<float>().ToArray();
        var order = Enumerable.Range(0, sets.ExpertCount)
            .OrderByDescending(e => sets.Experts[e].Length)
            .ThenBy(e => frequency is null ? 0.0 : sets.Experts[e].Average(n => frequency[n]))
            .ThenBy(e => e)
            .ToArray();

        var residual = order.Skip(options.Experts).SelectMany(e => sets.Experts[e]).Order().ToArray();
        var experts = order.Take(options.Experts).Order().Select(e => sets.Experts[e]).ToArray();
        return new ExpertPartition(sets.NeuronCount, experts, residual, false);
    }

    private static Tensor RouterWeight(ConstructionOptions options, int hiddenSize, int layer, LayerCalibration? stats) => options.Router switch
    {
        "kmeans" => stats!.Centroids!.clone(), // (E, H)
        "tokens" => RouterInitialization.RandomTokenRows(stats!.HiddenStates, options.Experts, options.Seed + layer), // (E, H)
        _ => RouterInitialization.KaimingUniform(options.Experts, hiddenSize, new Generator((ulong)(options.Seed + layer))), // (E, H)
    };

    private static LlamaMoeException Unknown(string message, string key, string advice) =>
        new(ConstructionErrorCodes.UnknownMethod, message, key: key, advice: advice);
}
