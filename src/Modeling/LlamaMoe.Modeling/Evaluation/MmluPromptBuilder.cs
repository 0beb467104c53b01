using System.Text;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>How an MMLU answer is scored.</summary>
public enum MmluContinuationStyle
{
    /// <summary>The letter, as lm-evaluation-harness's <c>mmlu</c> task: continuations <c>" A"</c> … <c>" D"</c> (acc = acc_norm since all have 2 bytes).</summary>
    Letter,

    /// <summary>The answer text, as the harness's <c>mmlu_continuation</c> variant: continuations <c>" {choice}"</c>.</summary>
    AnswerText,
}

/// <summary>
/// Builds k-shot MMLU prompts in the lm-evaluation-harness layout:
/// <c>"The following are multiple choice questions (with answers) about {subject}.\n\n"</c>, then per shot
/// <c>"{question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer: {letter}\n\n"</c>, then the test question ending in
/// <c>"Answer:"</c>. Shots are the first k rows of the subject's dev split.
/// </summary>
public static class MmluPromptBuilder
{
    private static readonly string[] Letters = ["A", "B", "C", "D"];

    /// <summary>Builds the question for <paramref name="item"/> with <paramref name="shots"/> dev examples.</summary>
    public static MultipleChoiceQuestion Build(MmluItem item, IReadOnlyList<MmluItem> dev, int shots, MmluContinuationStyle style)
    {
        var prompt = new StringBuilder();
        prompt.Append("The following are multiple choice questions (with answers) about ").Append(item.Subject).Append(".\n\n");
        foreach (var shot in dev.Take(shots))
        {
            prompt.Append(Body(shot)).Append(' ').Append(Answer(shot, shot.Answer, style)).Append("\n\n");
        }

        prompt.Append(Body(item));
        var continuations = Enumerable.Range(0, item.Choices.Count).Select(i => " " + Answer(item, i, style)).ToList();
        return new MultipleChoiceQuestion(prompt.ToString(), continuations, item.Answer);
    }

    private static string Body(MmluItem item)
    {
        var body = new StringBuilder(item.Question.Trim());
        for (var i = 0; i < item.Choices.Count; i++)
        {
            body.Append('\n').Append(Letters[i]).Append(". ").Append(item.Choices[i]);
        }

        return body.Append("\nAnswer:").ToString();
    }

    private static string Answer(MmluItem item, int index, MmluContinuationStyle style) =>
        style == MmluContinuationStyle.Letter ? Letters[index] : item.Choices[index];
}
