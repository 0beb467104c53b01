using System.Text.RegularExpressions;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Final-answer extraction for GSM8K. References: the text after <c>#### </c>. Generations: the number after the
/// first <c>#### </c> when present, otherwise the last number in the text. Answers are normalised by removing
/// commas, dollar signs, surrounding spaces and a trailing period; exact match compares the normalised strings.
/// </summary>
public static partial class Gsm8kAnswerExtractor
{
    /// <summary>The final answer of a reference solution, or null when it has no <c>####</c> line.</summary>
    public static string? ExtractReference(string answer)
    {
        var index = answer.IndexOf("####", StringComparison.Ordinal);
        return index < 0 ? null : Normalise(answer[(index + 4)..].Split('\n')[0]);
    }

    /// <summary>The final answer of a model generation, or null when it holds no number.</summary>
    public static string? ExtractPrediction(string generation)
    {
        var marked = MarkedAnswer().Match(generation);
        if (marked.Success)
        {
            return Normalise(marked.Groups[1].Value);
        }

        var numbers = Number().Matches(generation);
        return numbers.Count == 0 ? null : Normalise(numbers[^1].Value);
    }

    /// <summary>Removes commas, <c>$</c>, spaces and a trailing period.</summary>
    public static string Normalise(string answer)
    {
        var text = answer.Replace(",", string.Empty, StringComparison.Ordinal).Replace("$", string.Empty, StringComparison.Ordinal).Trim();
        while (text.EndsWith('.'))
        {
            text = text[..^1].TrimEnd();
        }

        return text;
    }

    /// <summary>Whether a generation's extracted answer equals the reference's.</summary>
    public static bool IsCorrect(string generation, string referenceAnswer) =>
        ExtractPrediction(generation) is { } predicted && predicted == ExtractReference(referenceAnswer);

    [GeneratedRegex(@"####\s*(-?\$?\s*[0-9][0-9,]*(?:\.[0-9]+)?)")]
    private static partial Regex MarkedAnswer();

    [GeneratedRegex(@"-?\$?[0-9][0-9,]*(?:\.[0-9]+)?")]
    private static partial Regex Number();
}
