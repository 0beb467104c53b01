using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tests.Export;
using LlamaMoe.Modeling.Tests.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests.Generation;

/// <summary>Batched generation with left padding and a KV cache gives every prompt what generating it alone gives.</summary>
public sealed class BatchedGenerationTests
{
    private static readonly string[] Texts =
    [
        "Once upon a time",
        "Tom",
        "The little dog ran to the park and saw a big red ball under a tree.",
        string.Empty,
        "Lily and her mom went to the",
        "One day, a bird",
    ];

    private static TempDirectory? work;
    private static LlamaForCausalLM? stories;
    private static List<IReadOnlyList<int>> prompts = [];

    [OneTimeSetUp]
    public void ImportStories()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("batched-generation");
        var directory = MoeTestModels.ImportStories(work.Combine("stories"));
        stories = LlamaForCausalLM.FromDirectory(directory);
        var tokenizer = TokenizerLoader.Load(directory);
        prompts = Texts.Select(t => (IReadOnlyList<int>)tokenizer.Encode(t, addBos: true).ToList()).ToList();
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        stories?.Dispose();
        work?.Dispose();
    }

    [TestCase(1)]
    [TestCase(4)]
    [TestCase(16)]
    public void GreedyBatchesOfMixedLengthsEqualGeneratingEachPromptAlone(int batchSize)
    {
        var options = new GenerationOptions(MaxNewTokens: 40);
        var result = BatchedGenerator.Generate(stories!, prompts, new BatchedGenerationOptions(options, batchSize));
        for (var i = 0; i < prompts.Count; i++)
        {
            Assert.That(result.Sequences[i].Tokens, Is.EqualTo(TextGenerator.Generate(stories!, prompts[i], options)), $"prompt {i}: '{Texts[i]}'");
            Assert.That(result.Sequences[i].FinishReason, Is.EqualTo(GenerationFinishReason.MaxTokens));
        }

        Assert.That(result.Timing.GeneratedTokens, Is.EqualTo(40 * prompts.Count));
        Assert.That(result.Timing.PromptTokens, Is.EqualTo(prompts.Sum(p => p.Count)));
        Assert.That(result.Timing.Batches, Is.EqualTo((prompts.Count + batchSize - 1) / batchSize));
        Assert.That(result.Timing.Steps, Is.EqualTo(40 * result.Timing.Batches), "one prefill and 39 one-token steps per batch");
    }

    [Test]
    public void RowsStopOnTheirOwnWhileTheOthersGoOn()
    {
        var options = new GenerationOptions(MaxNewTokens: 30);
        var alone = prompts.Select(p => TextGenerator.Generate(stories!, p, options)).ToList();
        var stopToken = alone[0][5];
        var stopped = new GenerationOptions(MaxNewTokens: 30, StopTokenIds: [stopToken]);
        var result = BatchedGenerator.Generate(stories!, prompts, new BatchedGenerationOptions(stopped, BatchSize: 8, StopWhen: (index, ids) => index == 2 && ids.Count == 7));
        for (var i = 0; i < prompts.Count; i++)
        {
            var expected = TextGenerator.Generate(stories!, prompts[i], stopped);
            if (i == 2 && expected.Count > 7)
            {
                Assert.That(result.Sequences[i].Tokens, Is.EqualTo(expected.Take(7)));
                Assert.That(result.Sequences[i].FinishReason, Is.EqualTo(GenerationFinishReason.StopCondition));
                continue;
            }

            Assert.That(result.Sequences[i].Tokens, Is.EqualTo(expected), $"prompt {i}");
            Assert.That(result.Sequences[i].FinishReason, Is.EqualTo(expected[^1] == stopToken ? GenerationFinishReason.StopToken : GenerationFinishReason.MaxTokens), $"prompt {i}");
        }

        Assert.That(result.Sequences[0].Tokens, Has.Count.LessThanOrEqualTo(6));
    }

    [Test]
    public void SparseMoeModelBatchesEqualGeneratingEachPromptAlone()
    {
        using var moe = MoeTestModels.FromDense(stories!, experts: 4, topK: 2, scale: 2.0);
        AssertBatchedEqualsAlone(moe, prompts, new GenerationOptions(MaxNewTokens: 24), batchSize: 4);
    }

    [Test]
    public void AttentionMoeModelBatchesEqualGeneratingEachPromptAlone()
    {
        using var moe = AttentionMoeConversion.Apply(stories!, AttentionMoeOptions.ForAllLayers(stories!.Config, topK: 2), seed: 5);
        moe.eval();
        AssertBatchedEqualsAlone(moe, prompts, new GenerationOptions(MaxNewTokens: 24), batchSize: 4);
    }

    [Test]
    public void SeededSamplingDrawsPerPromptAsWhenGeneratedAlone()
    {
        torch.manual_seed(21);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        model.eval();
        List<IReadOnlyList<int>> tiny = [[0, 5, 7], [0], [0, 9, 3, 44, 12, 80, 6], [0, 17]];
        AssertBatchedEqualsAlone(model, tiny, new GenerationOptions(MaxNewTokens: 16, Temperature: 0.9, TopP: 0.9, TopK: 40, Seed: 3), batchSize: 4);
        AssertBatchedEqualsAlone(model, tiny, new GenerationOptions(MaxNewTokens: 16, Temperature: 1.3, Seed: 4), batchSize: 3);
    }

    [Test]
    public void RowsStopWhereTheModelContextEnds()
    {
        torch.manual_seed(22);
        var config = TinyLlamaFactory.Llama3Style() with { MaxPositionEmbeddings = 24 };
        using var model = new LlamaForCausalLM(config);
        model.eval();
        List<IReadOnlyList<int>> tiny = [Enumerable.Range(3, 20).ToList(), [0, 4], Enumerable.Range(3, 30).ToList()];
        var options = new GenerationOptions(MaxNewTokens: 10);
        var result = BatchedGenerator.Generate(model, tiny, new BatchedGenerationOptions(options, BatchSize: 3));
        Assert.That(result.Sequences.Select(s => s.Tokens.Count), Is.EqualTo(new[] { 5, 10, 0 }));
        Assert.That(result.Sequences.Select(s => s.FinishReason), Is.EqualTo(new[] { GenerationFinishReason.ContextFull, GenerationFinishReason.MaxTokens, GenerationFinishReason.ContextFull }));
        for (var i = 0; i < tiny.Count; i++)
        {
            Assert.That(result.Sequences[i].Tokens, Is.EqualTo(TextGenerator.Generate(model, tiny[i], options)), $"prompt {i}");
        }
    }

    [Test]
    public void EmptyPromptsAndBatchSizeZeroAreCodedErrors()
    {
        Assert.That(Assert.Throws<LlamaMoeException>(() => BatchedGenerator.Generate(stories!, [[1], []], new BatchedGenerationOptions(new GenerationOptions())))!.Code, Is.EqualTo("LMOE3802"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => new BatchedGenerationOptions(new GenerationOptions(), BatchSize: 0).Validate())!.Code, Is.EqualTo("LMOE3801"));
    }

    private static void AssertBatchedEqualsAlone(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> batch, GenerationOptions options, int batchSize)
    {
        var result = BatchedGenerator.GenerateTokens(model, batch, new BatchedGenerationOptions(options, batchSize));
        for (var i = 0; i < batch.Count; i++)
        {
            Assert.That(result[i], Is.EqualTo(TextGenerator.Generate(model, batch[i], options)), $"prompt {i}");
        }
    }
}
