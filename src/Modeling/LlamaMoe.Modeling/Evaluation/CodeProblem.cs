using System.Text.Json;
using LlamaMoe.Modeling.Data;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// One code-generation problem: the prompt the model continues, the stop sequences, how a completion becomes a test
/// program, and the reference solution (a completion known to pass).
/// </summary>
/// <param name="TaskId">The task id (<c>HumanEval/0</c>, <c>Mbpp/11</c>).</param>
/// <param name="Prompt">The text the model continues (zero-shot for HumanEval; MBPP prompts are built by <see cref="CodeProblems.MbppPrompt"/>).</param>
/// <param name="ReferenceCompletion">A completion that passes (HumanEval canonical solution, MBPP code).</param>
/// <param name="ProgramFor">Builds the full test program of a completion.</param>
/// <param name="StopSequences">Where generation stops.</param>
public sealed record CodeProblem(string TaskId, string Prompt, string ReferenceCompletion, Func<string, string> ProgramFor, IReadOnlyList<string> StopSequences);

/// <summary>Readers for HumanEval and MBPP JSON lines.</summary>
public static class CodeProblems
{
    /// <summary>HumanEval's stop sequences (the original evaluation's).</summary>
    public static readonly IReadOnlyList<string> HumanEvalStops = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"];

    /// <summary>Reads HumanEval (<c>task_id, prompt, entry_point, canonical_solution, test</c>). Program: prompt + completion + test + <c>check(entry_point)</c>.</summary>
    public static IReadOnlyList<CodeProblem> ReadHumanEval(string path) =>
        JsonLinesFile.Read(path, (root, line) =>
        {
            var prompt = JsonLinesFile.RequiredString(root, "prompt", path, line);
            var test = JsonLinesFile.RequiredString(root, "test", path, line);
            var entryPoint = JsonLinesFile.RequiredString(root, "entry_point", path, line);
            return new CodeProblem(
                JsonLinesFile.RequiredString(root, "task_id", path, line),
                prompt,
                JsonLinesFile.RequiredString(root, "canonical_solution", path, line),
                completion => prompt + completion + "\n\n" + test + "\n\n" + $"check({entryPoint})\n",
                HumanEvalStops);
        });

    /// <summary>
    /// Reads MBPP (<c>text, code, task_id, test_setup_code, test_list</c>). Prompt (Austin et al. 2021 format):
    /// <c>"You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}\n[BEGIN]\n"</c>;
    /// generation stops at <c>[DONE]</c>. Program: completion + setup code + the asserts.
    /// </summary>
    public static IReadOnlyList<CodeProblem> ReadMbpp(string path) =>
        JsonLinesFile.Read(path, (root, line) =>
        {
            var text = JsonLinesFile.RequiredString(root, "text", path, line);
            var code = JsonLinesFile.RequiredString(root, "code", path, line);
            var setup = JsonLinesFile.OptionalString(root, "test_setup_code", path, line) ?? string.Empty;
            if (!root.TryGetProperty("test_list", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw DataErrors.BadField(path, line, "test_list", "'test_list' must be an array of assert statements");
            }

            var tests = list.EnumerateArray().Select((t, i) => t.ValueKind == JsonValueKind.String
                ? t.GetString()!
                : throw DataErrors.BadField(path, line, "test_list", $"'test_list' item {i} must be a string (an assert statement), not {t.ValueKind}")).ToList();
            var id = root.TryGetProperty("task_id", out var taskId) ? taskId.ToString() : line.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new CodeProblem(
                "Mbpp/" + id,
                MbppPrompt(text, tests),
                code.Replace("\r\n", "\n", StringComparison.Ordinal),
                completion => completion + "\n\n" + setup.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n" + string.Join("\n", tests) + "\n",
                ["[DONE]"]);
        });

    /// <summary>The MBPP task prompt (without shots).</summary>
    public static string MbppPrompt(string text, IReadOnlyList<string> tests) =>
        $"You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{string.Join("\n", tests)}\n[BEGIN]\n";

    /// <summary>Prefixes an MBPP problem's prompt with solved examples (<c>prompt + code + "\n[DONE]\n"</c>).</summary>
    public static CodeProblem WithShots(CodeProblem problem, IReadOnlyList<CodeProblem> shots) =>
        problem with { Prompt = string.Concat(shots.Select(s => s.Prompt + s.ReferenceCompletion + "\n[DONE]\n")) + problem.Prompt };
}
