using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.MoeModel;

/// <summary>Shared steps of the conversion tests: build a dense model, calibrate, convert, compare logits.</summary>
internal static class ConversionFixture
{
    public static LlamaConfig RandomLlama3(int layers = 2) => new LlamaConfig
    {
        VocabSize = 96,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = layers,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 256,
        RopeTheta = 500000.0,
        RopeScaling = new RopeScaling(RopeScaling.Llama3, 8.0, 1.0, 4.0, 64),
        RmsNormEps = 1e-5,
        TieWordEmbeddings = false,
        BosTokenId = 0,
        EosTokenIds = [1, 2],
        TorchDtype = "float32",
    }.Validate();

    /// <summary>Saves a random dense model (seeded) and returns its directory.</summary>
    public static string SaveRandomDense(string directory, LlamaConfig config, long seed)
    {
        manual_seed(seed);
        using var model = new LlamaForCausalLM(config);
        using (no_grad())
        {
            foreach (var (_, parameter) in model.named_parameters())
            {
                parameter.normal_(0, 0.2);
            }
        }

        model.SaveDirectory(directory);
        return directory;
    }

    public static IReadOnlyList<EncodedExample> RandomSamples(int vocab, int count, int length, long seed)
    {
        var random = new Random((int)seed);
        return Enumerable.Range(0, count).Select(_ => EncodedExample.AllTargets(Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray())).ToList();
    }

    /// <summary>Lossless settings: top-k = E, unit routing weights, scale 1.</summary>
    public static ConstructionOptions Lossless(string split, int experts, int residual = 0, string router = "random") =>
        new(experts, experts, split, router, residual, ScaleFactor: 1.0, Seed: 3, Weights: RoutingWeights.Unit);

    /// <summary>Calibrates (if needed), plans and converts; returns the MoE directory.</summary>
    public static string Convert(string denseDirectory, string outputDirectory, ConstructionOptions options, IReadOnlyList<EncodedExample> samples, int maxHiddenStates = 256)
    {
        CalibrationArtifact? calibration = null;
        try
        {
            if (ConstructionPlanner.CalibrationFor(options, maxHiddenStates) is not null)
            {
                calibration = Calibrate(denseDirectory, options.Experts, samples, maxHiddenStates);
            }

            return Convert(denseDirectory, outputDirectory, options, calibration);
        }
        finally
        {
            calibration?.Dispose();
        }
    }

    /// <summary>Every statistic (co-activation, centroids and importance for <paramref name="clusters"/> clusters), with a fast k-means.</summary>
    public static CalibrationArtifact Calibrate(string denseDirectory, int clusters, IReadOnlyList<EncodedExample> samples, int maxHiddenStates = 256)
    {
        using var dense = LlamaForCausalLM.FromDirectory(denseDirectory);
        var options = new CalibrationOptions(maxHiddenStates, Seed: 1, Coactivation: true, ImportanceClusters: clusters,
            KMeans: points => LlamaMoe.Modeling.Construction.BalancedKMeansOptions.Jittered(points, clusters, restarts: 2, maxIterations: 20));
        return Calibrator.Run(dense, samples, options);
    }

    /// <summary>Plans and converts with a given calibration.</summary>
    public static string Convert(string denseDirectory, string outputDirectory, ConstructionOptions options, CalibrationArtifact? calibration)
    {
        {
            var plans = ConstructionPlanner.Plan(denseDirectory, options, calibration);
            MoeConverter.Convert(denseDirectory, outputDirectory, plans, ConstructionPlanner.ConversionOptions(options));
            foreach (var plan in plans.Values)
            {
                plan.RouterWeight.Dispose();
            }

            return outputDirectory;
        }
    }

    public static float MaxLogitDifference(LlamaForCausalLM a, LlamaForCausalLM b, Tensor ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return (a.forward(ids) - b.forward(ids)).abs().max().to(ScalarType.Float32).item<float>();
    }

    public static float MaxAbsLogit(LlamaForCausalLM model, Tensor ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.forward(ids).abs().max().to(ScalarType.Float32).item<float>();
    }
}
