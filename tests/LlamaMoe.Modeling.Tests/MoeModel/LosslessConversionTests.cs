using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.MoeModel;

/// <summary>
/// The lossless invariant through the whole pipeline (calibrate → plan → streaming convert → native save → load): with
/// top-k = E, unit routing weights and scale 1, the MoE model's logits equal the dense model's. Sharing is left out: it
/// declares overlapping experts, so summing them double-counts neurons by design.
/// </summary>
public sealed class LosslessConversionTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var split in new[] { "random", "sequential", "clustering", "coactivation", "gradient" })
        {
            yield return new TestCaseData(split, 0).SetName($"{split}");
            yield return new TestCaseData(split, 1).SetName($"{split}_residual");
        }
    }

    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCaseSource(nameof(Cases))]
    public void RandomLlama3ModelConvertsLosslessly(string split, int residual)
    {
        using var work = new TempDirectory("lossless-llama3");
        var config = ConversionFixture.RandomLlama3();
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 11);
        var samples = ConversionFixture.RandomSamples(config.VocabSize, 4, 24, seed: 5);
        var options = ConversionFixture.Lossless(split, experts: 3, residual);
        var moe = ConversionFixture.Convert(dense, work.Combine("moe"), options, samples);

        using var denseModel = CausalLanguageModelLoader.Load(dense);
        using var moeModel = CausalLanguageModelLoader.Load(moe);
        Assert.That(moeModel.FeedForwardBlocks, Has.All.InstanceOf<SparseMoeBlock>());
        Assert.That(((SparseMoeBlock)moeModel.FeedForwardBlocks[0]).Residual is not null, Is.EqualTo(residual > 0));
        var ids = randint(config.VocabSize, new long[] { 2, 20 }, generator: new Generator(9)); // (B, T)
        Assert.That(ConversionFixture.MaxLogitDifference(denseModel, moeModel, ids), Is.LessThan(1e-5f));
    }

    [TestCaseSource(nameof(Cases))]
    public void Stories260KConvertsLosslessly(string split, int residual)
    {
        var stories = Stories260K.Value;
        var options = ConversionFixture.Lossless(split, experts: 4, residual, router: "kmeans");
        var moe = ConversionFixture.Convert(stories.Dense, stories.Work.Combine($"moe-{split}-{residual}"), options, stories.Calibration);

        using var denseModel = CausalLanguageModelLoader.Load(stories.Dense);
        using var moeModel = CausalLanguageModelLoader.Load(moe);
        var ids = tensor(stories.Samples[0].Ids.Select(i => (long)i).ToArray()).unsqueeze(0); // (1, T)
        // float32: the MoE sums the MLP in E partial sums, so rounding differs at the level of the logits' ulp (|logit| up to ~20).
        var scale = Math.Max(1f, ConversionFixture.MaxAbsLogit(denseModel, ids));
        Assert.That(ConversionFixture.MaxLogitDifference(denseModel, moeModel, ids), Is.LessThan(1e-5f * scale));

        // float64: the same checkpoints agree to double rounding, so the construction is exact.
        using var denseDouble = CausalLanguageModelLoader.Load(stories.Dense, dtype: ScalarType.Float64);
        using var moeDouble = CausalLanguageModelLoader.Load(moe, dtype: ScalarType.Float64);
        Assert.That(ConversionFixture.MaxLogitDifference(denseDouble, moeDouble, ids), Is.LessThan(1e-10f));
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        if (Stories260K.IsValueCreated)
        {
            Stories260K.Value.Dispose();
        }
    }

    private static readonly Lazy<StoriesSetup> Stories260K = new(StoriesSetup.Create);

    private sealed record StoriesSetup(TempDirectory Work, string Dense, IReadOnlyList<LlamaMoe.Modeling.Data.EncodedExample> Samples, LlamaMoe.Modeling.Calibration.CalibrationArtifact Calibration) : IDisposable
    {
        public static StoriesSetup Create()
        {
            var work = new TempDirectory("lossless-stories");
            var dense = work.Combine("dense");
            ModelImporter.Import(SharedData.Stories260KBin, dense, SharedData.Tok512Model);
            var samples = LlamaMoe.Modeling.Calibration.CalibrationCorpus.Load(SharedData.TinyStoriesValid, "stories", TokenizerLoader.Load(dense), maxLength: 64, maxSamples: 6);
            return new StoriesSetup(work, dense, samples, ConversionFixture.Calibrate(dense, 4, samples));
        }

        public void Dispose()
        {
            Calibration.Dispose();
            Work.Dispose();
        }
    }

    [Test]
    public void ContractLayersStayDenseAndTheModelStaysLossless()
    {
        using var work = new TempDirectory("lossless-contract");
        var config = ConversionFixture.RandomLlama3(layers: 4);
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 2);
        var options = ConversionFixture.Lossless("random", experts: 2) with { ContractFirst = 1, ContractLast = 1 };
        var moe = ConversionFixture.Convert(dense, work.Combine("moe"), options, []);
        using var denseModel = CausalLanguageModelLoader.Load(dense);
        using var moeModel = CausalLanguageModelLoader.Load(moe);
        Assert.That(moeModel.FeedForwardBlocks.Select(b => b is SparseMoeBlock), Is.EqualTo(new[] { false, true, true, false }));
        Assert.That(MoeModelFactory.MoeConfigOf(moeModel)!.MoeLayers, Is.EqualTo(new[] { 1, 2 }));
        var ids = randint(config.VocabSize, new long[] { 1, 16 }, generator: new Generator(1)); // (B, T)
        Assert.That(ConversionFixture.MaxLogitDifference(denseModel, moeModel, ids), Is.LessThan(1e-5f));
    }

    [Test]
    public void V2RoutingWithTopKBelowEChangesTheLogitsButStaysClose()
    {
        using var work = new TempDirectory("v2-routing");
        var config = ConversionFixture.RandomLlama3();
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 4);
        var options = new ConstructionOptions(4, 2, "sequential", Seed: 1);
        var moe = ConversionFixture.Convert(dense, work.Combine("moe"), options, []);
        using var denseModel = CausalLanguageModelLoader.Load(dense);
        using var moeModel = CausalLanguageModelLoader.Load(moe);
        var moeConfig = MoeModelFactory.MoeConfigOf(moeModel)!;
        Assert.That(moeConfig.ScaleFactors, Is.All.EqualTo(2.0), "default scale E/k");
        Assert.That(moeConfig.Router.Weights, Is.EqualTo(RoutingWeights.SoftmaxRenormalized));
        var ids = randint(config.VocabSize, new long[] { 1, 16 }, generator: new Generator(1)); // (B, T)
        Assert.That(ConversionFixture.MaxLogitDifference(denseModel, moeModel, ids), Is.GreaterThan(1e-4f));
    }
}
