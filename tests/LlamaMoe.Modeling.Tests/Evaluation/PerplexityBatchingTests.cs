using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tests.Export;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Evaluation;

/// <summary>Perplexity batches (right padding, device-side sums) give the per-sequence result.</summary>
public sealed class PerplexityBatchingTests
{
    private static TempDirectory? work;
    private static LlamaForCausalLM? model;
    private static List<IReadOnlyList<int>> stories = [];
    private static PerplexityResult? alone;
    private static string directory = string.Empty;

    [OneTimeSetUp]
    public void ImportStories()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("perplexity-batching");
        directory = MoeTestModels.ImportStories(work.Combine("stories"));
        model = LlamaForCausalLM.FromDirectory(directory);
        stories = EvaluationCorpus.Stories(File.ReadAllText(SharedData.TinyStoriesValid), TokenizerLoader.Load(directory)).Take(24).ToList();
        alone = PerplexityEvaluator.Evaluate(model, stories, maxBatchTokens: 1); // one sequence per pass
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        model?.Dispose();
        work?.Dispose();
    }

    [TestCase(512)]
    [TestCase(4096)]
    [TestCase(1 << 20)]
    public void BatchesOfAnySizeGiveTheOneSequencePerPassResult(int maxBatchTokens)
    {
        var batched = PerplexityEvaluator.Evaluate(model!, stories, maxBatchTokens);
        Assert.That(batched.Sequences, Is.EqualTo(alone!.Sequences));
        Assert.That(batched.Tokens, Is.EqualTo(stories.Sum(s => s.Count - 1L)));
        Assert.That(batched.MeanNll, Is.EqualTo(alone.MeanNll).Within(1e-6));
    }

    [TestCase(TorchSharp.torch.ScalarType.BFloat16)]
    [TestCase(TorchSharp.torch.ScalarType.Float16)]
    public void HalfPrecisionModelsScoreLikeFloat32(TorchSharp.torch.ScalarType dtype)
    {
        // Loading in another dtype used to leave every RMSNorm multiplying by its initial ones (mean NLL about 4 instead of 1.2).
        using var half = LlamaForCausalLM.FromDirectory(directory, dtype: dtype);
        var result = PerplexityEvaluator.Evaluate(half, stories);
        Assert.That(result.MeanNll, Is.EqualTo(alone!.MeanNll).Within(0.01));
    }

    [Test]
    public void SequencesTooShortToPredictAnythingAreSkipped()
    {
        var result = PerplexityEvaluator.Evaluate(model!, [[1], stories[0], []]);
        var single = PerplexityEvaluator.Evaluate(model!, [stories[0]]);
        Assert.That(result.Sequences, Is.EqualTo(1));
        Assert.That(result.TotalNll, Is.EqualTo(single.TotalNll));
    }
}
