using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tests.Export;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Evaluation;

/// <summary>
/// Completions generated in batches that stop as soon as their text holds a stop sequence are the completions generated one
/// by one to the full budget and cut afterwards.
/// </summary>
public sealed class BatchedCompletionTests
{
    private static TempDirectory? work;
    private static LlamaForCausalLM? model;
    private static ITextTokenizer? tokenizer;

    [OneTimeSetUp]
    public void ImportStories()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("batched-completion");
        var directory = MoeTestModels.ImportStories(work.Combine("stories"));
        model = LlamaForCausalLM.FromDirectory(directory);
        tokenizer = TokenizerLoader.Load(directory);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        model?.Dispose();
        work?.Dispose();
    }

    [Test]
    public void StoppingAtStopTextGivesTheTextsOfFullLengthGenerationCutAfterwards()
    {
        CompletionRequest[] requests =
        [
            new("Once upon a time", 48, ["."]),
            new("Tom had a red ball. He", 48, [" the", "!"]),
            new("The cat", 48, []),
            new("Lily and her mom went to the park. They", 48, ["Lily", "never appears"]),
            new("One day", 20, ["\n"]),
        ];
        var alone = GenerationText.OneByOne(OneByOneFullBudget)(requests);
        var generatedTokens = 0L;
        var batched = Batched(requests, batchSize: 3, tokens => generatedTokens += tokens);
        Assert.That(batched, Is.EqualTo(alone));
        Assert.That(alone.Count(text => text.Length > 0), Is.GreaterThanOrEqualTo(4), "the test needs real completions");
        Assert.That(generatedTokens, Is.LessThan((4 * 48) + 20), "rows with a stop sequence in their text stopped early");
    }

    [Test]
    public void Gsm8kSamplesDoNotDependOnTheGenerationBatchSize()
    {
        var problems = Gsm8kJsonlReader.ReadProblems(SharedData.File("gsm8k", "test_shared.jsonl")).Take(5).ToList();
        var shots = Gsm8kJsonlReader.ReadProblems(SharedData.File("gsm8k", "train.jsonl")).Take(1).ToList();
        var alone = Gsm8kEvaluator.Evaluate(problems, shots, 1, OneByOneFullBudget, maxNewTokens: 40);
        var batched = Gsm8kEvaluator.Evaluate(problems, shots, 1, requests => Batched(requests, batchSize: 4, _ => { }), maxNewTokens: 40);
        Assert.That(batched.Samples, Is.EqualTo(alone.Samples));
        Assert.That(batched.ExactMatch, Is.EqualTo(alone.ExactMatch));
    }

    // As ModelScoring did before batching: the whole budget, one prompt at a time, then cut.
    private static string OneByOneFullBudget(string prompt, int maxNewTokens, IReadOnlyList<string> stops)
    {
        var ids = tokenizer!.Encode(prompt, addBos: true);
        var generated = TextGenerator.Generate(model!, ids, new GenerationOptions(maxNewTokens, StopTokenIds: [tokenizer.EosId!.Value]));
        return GenerationText.CutAtStop(tokenizer.Decode(generated), stops);
    }

    private static List<string> Batched(IReadOnlyList<CompletionRequest> requests, int batchSize, Action<long> countTokens)
    {
        var texts = new string[requests.Count];
        foreach (var group in Enumerable.Range(0, requests.Count).GroupBy(i => requests[i].MaxNewTokens))
        {
            var indices = group.ToList();
            var prompts = indices.Select(i => tokenizer!.Encode(requests[i].Prompt, addBos: true)).ToList();
            var stopWhen = GenerationText.StopWhenTextContains(ids => tokenizer!.Decode(ids), indices.Select(i => requests[i].StopSequences).ToList());
            var options = new BatchedGenerationOptions(new GenerationOptions(group.Key, StopTokenIds: [tokenizer!.EosId!.Value]), batchSize, stopWhen);
            var result = BatchedGenerator.Generate(model!, prompts, options);
            countTokens(result.Timing.GeneratedTokens);
            for (var j = 0; j < indices.Count; j++)
            {
                texts[indices[j]] = GenerationText.CutAtStop(tokenizer!.Decode(result.Sequences[j].Tokens), requests[indices[j]].StopSequences);
            }
        }

        return texts.ToList();
    }
}
