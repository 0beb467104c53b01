using System.Text;
using LlamaMoe.Modeling.Data;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>The result of a generative exact-match task.</summary>
/// <param name="ExactMatch">The fraction of problems whose extracted answer equals the reference.</param>
/// <param name="Count">The number of problems.</param>
/// <param name="Samples">Per problem: the generation, the extracted answer and the reference answer.</param>
public sealed record ExactMatchResult(double ExactMatch, int Count, IReadOnlyList<(string Generation, string? Predicted, string? Reference)> Samples);

/// <summary>
/// GSM8K k-shot generative evaluation: prompt <c>"Question: {q}\nAnswer: {worked answer}\n\n"</c> for each of the
/// first k training problems, then <c>"Question: {q}\nAnswer:"</c>; greedy generation until <c>"Question:"</c>,
/// <c>"&lt;/s&gt;"</c> or <c>"&lt;|im_end|&gt;"</c> (the harness's stop strings); exact match on the final number.
/// </summary>
public static class Gsm8kEvaluator
{
    /// <summary>The stop sequences.</summary>
    public static readonly IReadOnlyList<string> StopSequences = ["Question:", "</s>", "<|im_end|>"];

    /// <summary>Builds the k-shot prompt of one problem.</summary>
    public static string Prompt(Gsm8kProblem problem, IReadOnlyList<Gsm8kProblem> shots, int k)
    {
        var prompt = new StringBuilder();
        foreach (var shot in shots.Take(k))
        {
            prompt.Append("Question: ").Append(shot.Question).Append("\nAnswer: ").Append(shot.Answer).Append("\n\n");
        }

        return prompt.Append("Question: ").Append(problem.Question).Append("\nAnswer:").ToString();
    }

    /// <summary>Evaluates the problems, generating one answer at a time.</summary>
    public static ExactMatchResult Evaluate(IReadOnlyList<Gsm8kProblem> problems, IReadOnlyList<Gsm8kProblem> shots, int k, CompletionGenerator generate, int maxNewTokens = 256) =>
        Evaluate(problems, shots, k, GenerationText.OneByOne(generate), maxNewTokens);

    /// <summary>Evaluates the problems, handing all prompts to <paramref name="generate"/> at once (for batched generation).</summary>
    public static ExactMatchResult Evaluate(IReadOnlyList<Gsm8kProblem> problems, IReadOnlyList<Gsm8kProblem> shots, int k, BatchCompletionGenerator generate, int maxNewTokens = 256)
    {
        var generations = generate(problems.Select(p => new CompletionRequest(Prompt(p, shots, k), maxNewTokens, StopSequences)).ToList());
        var samples = new List<(string, string?, string?)>();
        var correct = 0;
        for (var i = 0; i < problems.Count; i++)
        {
            var generation = GenerationText.CutAtStop(generations[i], StopSequences);
            var predicted = Gsm8kAnswerExtractor.ExtractPrediction(generation);
            var reference = Gsm8kAnswerExtractor.ExtractReference(problems[i].Answer);
            correct += predicted is not null && predicted == reference ? 1 : 0;
            samples.Add((generation, predicted, reference));
        }

        return new ExactMatchResult((double)correct / Math.Max(1, problems.Count), problems.Count, samples);
    }
}
