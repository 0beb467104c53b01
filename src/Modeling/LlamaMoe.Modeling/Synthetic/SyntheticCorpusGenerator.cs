using System.Text;
using System.Text.Json;

namespace LlamaMoe.Modeling.Synthetic;

/// <summary>
/// Writes a deterministic multi-domain corpus and instruction set: pre-training text (stories format), a general
/// chat mix (stage 1), a math/code chat mix (stage 2), and held-out per-domain evaluation sets in GSM8K jsonl form and
/// as text for per-domain perplexity. Evaluation questions never appear in any training file. Every file uses one
/// layout, <c>Question: …\nAnswer: …</c>: in the chat files the user turn is <c>Question: …</c> and the assistant
/// turn <c>Answer: …</c>, so the <c>plain</c> chat template renders exactly the corpus layout and the GSM8K-style
/// evaluation prompt, and instruction tuning trains the format that is evaluated.
/// </summary>
public static class SyntheticCorpusGenerator
{
    /// <summary>Names of the files written by <see cref="Write"/>.</summary>
    public static readonly IReadOnlyList<string> FileNames =
    [
        "corpus.txt", "general.jsonl", "mathcode.jsonl", "eval-text.txt", "eval-conversation.jsonl", "eval-math.jsonl", "eval-code.jsonl",
        "text-conversation.txt", "text-math.txt", "text-code.txt",
    ];

    /// <summary>Generates the corpus into <paramref name="outputDirectory"/> (files are written atomically).</summary>
    public static SyntheticCorpusSummary Write(string outputDirectory, SyntheticCorpusOptions options)
    {
        options.Validate();
        var random = new Random(options.Seed);
        var world = new SyntheticWorld(random, options.People);

        var conversation = Shuffle(world.AllQuestions().ToList(), random);
        var evalConversationCount = Math.Min(options.EvalExamplesPerDomain, conversation.Count / 4);
        var evalConversation = conversation.Take(evalConversationCount).ToList();
        var trainConversation = conversation.Skip(evalConversationCount).ToList();

        var (trainMath, evalMath) = DisjointSample(() => ProblemGenerators.MathProblem(random), options);
        var (trainCode, evalCode) = DisjointSample(() => ProblemGenerators.CodeProblem(random), options);

        Directory.CreateDirectory(outputDirectory);
        var corpus = new List<string>();
        for (var repeat = 0; repeat < 8; repeat++)
        {
            corpus.AddRange(world.FactParagraphs(random));
        }

        corpus.AddRange(trainConversation.Concat(trainMath).Concat(trainCode).Select(RenderPlain));
        WriteText(Path.Combine(outputDirectory, "corpus.txt"), Shuffle(corpus, random));
        WriteText(Path.Combine(outputDirectory, "eval-text.txt"), evalMath.Concat(evalCode).Select(RenderPlain).ToList());
        WriteText(Path.Combine(outputDirectory, "text-conversation.txt"), evalConversation.Select(RenderPlain).ToList());
        WriteText(Path.Combine(outputDirectory, "text-math.txt"), evalMath.Select(RenderPlain).ToList());
        WriteText(Path.Combine(outputDirectory, "text-code.txt"), evalCode.Select(RenderPlain).ToList());

        var general = Shuffle(Repeat(trainConversation, options.TrainExamplesPerDomain).Concat(trainMath.Take(options.TrainExamplesPerDomain / 4))
            .Concat(trainCode.Take(options.TrainExamplesPerDomain / 4)).ToList(), random);
        var mathCode = Shuffle(trainMath.Concat(trainCode).Concat(trainConversation.Take(trainConversation.Count / 4)).ToList(), random);
        WriteJsonl(Path.Combine(outputDirectory, "general.jsonl"), general.Select(ChatLine));
        WriteJsonl(Path.Combine(outputDirectory, "mathcode.jsonl"), mathCode.Select(ChatLine));
        WriteJsonl(Path.Combine(outputDirectory, "eval-conversation.jsonl"), evalConversation.Select(Gsm8kLine));
        WriteJsonl(Path.Combine(outputDirectory, "eval-math.jsonl"), evalMath.Select(Gsm8kLine));
        WriteJsonl(Path.Combine(outputDirectory, "eval-code.jsonl"), evalCode.Select(Gsm8kLine));
        return new SyntheticCorpusSummary(corpus.Count, general.Count, mathCode.Count, evalConversation.Count, evalMath.Count, evalCode.Count);
    }

    /// <summary>The plain-text rendering used in the pre-training corpus and for perplexity.</summary>
    public static string RenderPlain(SyntheticExample example) => $"Question: {example.Question}\nAnswer: {example.Answer}";

    private static (List<SyntheticExample> Train, List<SyntheticExample> Eval) DisjointSample(Func<SyntheticExample> next, SyntheticCorpusOptions options)
    {
        var eval = new Dictionary<string, SyntheticExample>(StringComparer.Ordinal);
        var train = new List<SyntheticExample>();
        var attempts = 0;
        var maxAttempts = 50 * (options.TrainExamplesPerDomain + options.EvalExamplesPerDomain);
        while ((eval.Count < options.EvalExamplesPerDomain || train.Count < options.TrainExamplesPerDomain) && attempts++ < maxAttempts)
        {
            var example = next();
            if (eval.ContainsKey(example.Question))
            {
                continue; // held out: never trained on
            }

            if (eval.Count < options.EvalExamplesPerDomain && !train.Any(t => t.Question == example.Question))
            {
                eval[example.Question] = example;
            }
            else if (train.Count < options.TrainExamplesPerDomain)
            {
                train.Add(example);
            }
        }

        return (train, eval.Values.ToList());
    }

    private static List<T> Repeat<T>(List<T> items, int count) =>
        items.Count == 0 ? [] : Enumerable.Range(0, Math.Max(count, items.Count)).Select(i => items[i % items.Count]).ToList();

    private static List<T> Shuffle<T>(List<T> items, Random random)
    {
        var copy = items.ToList();
        ShuffleInPlace(copy, random);
        return copy;
    }

    /// <summary>Fisher-Yates shuffle of <paramref name="items"/> drawing from <paramref name="random"/> (the corpus's one shuffle).</summary>
    internal static void ShuffleInPlace<T>(IList<T> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static string ChatLine(SyntheticExample e) => JsonSerializer.Serialize(new
    {
        messages = new[] { new { role = "user", content = "Question: " + e.Question }, new { role = "assistant", content = "Answer: " + e.Answer } },
        domain = e.Domain.ToString().ToLowerInvariant(),
    });

    private static string Gsm8kLine(SyntheticExample e) => JsonSerializer.Serialize(new { question = e.Question, answer = e.Answer, domain = e.Domain.ToString().ToLowerInvariant() });

    private static void WriteText(string path, IReadOnlyList<string> documents) =>
        WriteAtomically(path, string.Join("\n<|endoftext|>\n", documents) + "\n");

    private static void WriteJsonl(string path, IEnumerable<string> lines) => WriteAtomically(path, string.Join("\n", lines) + "\n");

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, content, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>Counts of what <see cref="SyntheticCorpusGenerator.Write"/> produced.</summary>
/// <param name="CorpusDocuments">Pre-training documents.</param>
/// <param name="GeneralExamples">Stage-1 chat examples.</param>
/// <param name="MathCodeExamples">Stage-2 chat examples.</param>
/// <param name="EvalConversation">Held-out conversation questions.</param>
/// <param name="EvalMath">Held-out math questions.</param>
/// <param name="EvalCode">Held-out code questions.</param>
public sealed record SyntheticCorpusSummary(int CorpusDocuments, int GeneralExamples, int MathCodeExamples, int EvalConversation, int EvalMath, int EvalCode);
