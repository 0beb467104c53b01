using LlamaMoe.Modeling.Evaluation;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>The result of a code task.</summary>
/// <param name="PassAt1">The fraction of problems whose greedy completion passes its tests, or null when skipped.</param>
/// <param name="Count">The number of problems run.</param>
/// <param name="Skipped">Why the task did not run (<c>skipped: no sandbox</c>, <c>skipped: python3 not found</c>), or null.</param>
/// <param name="Outcomes">Per problem: the task id, the completion and how its program ended.</param>
public sealed record CodeResult(double? PassAt1, int Count, string? Skipped, IReadOnlyList<(string TaskId, string Completion, SandboxOutcome Outcome)> Outcomes);

/// <summary>pass@1 of greedy completions, each program run in the <see cref="PythonSandbox"/>.</summary>
public static class CodeEvaluator
{
    /// <summary>Generates a completion per problem, one at a time, and runs its test program; skips the whole task when no sandbox is available.</summary>
    public static CodeResult Evaluate(IReadOnlyList<CodeProblem> problems, CompletionGenerator generate, PythonSandbox? sandbox, string? skipReason, SandboxLimits? limits = null, int maxNewTokens = 512) =>
        Evaluate(problems, GenerationText.OneByOne(generate), sandbox, skipReason, limits, maxNewTokens);

    /// <summary>
    /// Generates all completions with one call of <paramref name="generate"/> (for batched generation), then runs each test
    /// program; skips the whole task, generating nothing, when no sandbox is available.
    /// </summary>
    public static CodeResult Evaluate(IReadOnlyList<CodeProblem> problems, BatchCompletionGenerator generate, PythonSandbox? sandbox, string? skipReason, SandboxLimits? limits = null, int maxNewTokens = 512)
    {
        if (sandbox is null)
        {
            return new CodeResult(null, 0, skipReason ?? "skipped: no sandbox", []);
        }

        var completions = generate(problems.Select(p => new CompletionRequest(p.Prompt, maxNewTokens, p.StopSequences)).ToList());
        var outcomes = new List<(string, string, SandboxOutcome)>();
        for (var i = 0; i < problems.Count; i++)
        {
            var completion = GenerationText.CutAtStop(completions[i], problems[i].StopSequences);
            var run = sandbox.Run(problems[i].ProgramFor(completion), limits ?? SandboxLimits.Default);
            outcomes.Add((problems[i].TaskId, completion, run.Outcome));
        }

        var passed = outcomes.Count(o => o.Item3 == SandboxOutcome.Passed);
        return new CodeResult((double)passed / Math.Max(1, problems.Count), problems.Count, null, outcomes);
    }
}
