namespace LlamaMoe.Modeling.Data;

/// <summary>One GSM8K problem: the question and the worked answer ending in <c>#### N</c>.</summary>
/// <param name="Question">The problem text.</param>
/// <param name="Answer">The worked solution with the final answer after <c>#### </c>.</param>
/// <param name="SourceFile">The file it was read from.</param>
/// <param name="Line">Its 1-based line.</param>
public sealed record Gsm8kProblem(string Question, string Answer, string SourceFile, int Line);

/// <summary>Reads GSM8K JSON lines (<c>question</c>, <c>answer</c>).</summary>
public static class Gsm8kJsonlReader
{
    /// <summary>Reads every problem of the file.</summary>
    public static IReadOnlyList<Gsm8kProblem> ReadProblems(string path) =>
        JsonLinesFile.Read(path, (root, line) => new Gsm8kProblem(
            JsonLinesFile.RequiredString(root, "question", path, line),
            JsonLinesFile.RequiredString(root, "answer", path, line),
            path,
            line));

    /// <summary>Reads the problems as user/assistant conversations for SFT (the assistant turn is the worked answer).</summary>
    public static IReadOnlyList<DataExample> Read(string path) =>
        ReadProblems(path)
            .Select(p => (DataExample)new ChatExample([new ChatMessage("user", p.Question), new ChatMessage("assistant", p.Answer)], p.SourceFile, p.Line))
            .ToList();
}
