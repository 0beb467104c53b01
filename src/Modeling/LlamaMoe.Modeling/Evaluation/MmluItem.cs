namespace LlamaMoe.Modeling.Evaluation;

/// <summary>One MMLU question.</summary>
/// <param name="Subject">The subject, from the file name (<c>abstract_algebra_test.csv</c> → <c>abstract algebra</c>).</param>
/// <param name="Question">The question text.</param>
/// <param name="Choices">The four choices A-D.</param>
/// <param name="Answer">The 0-based index of the correct choice.</param>
public sealed record MmluItem(string Subject, string Question, IReadOnlyList<string> Choices, int Answer);
