using System.Text.RegularExpressions;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>Turns evaluation text files into token sequences.</summary>
public static partial class EvaluationCorpus
{
    /// <summary>
    /// The stories protocol (stories260K REFERENCE.md): split on <c>&lt;|endoftext|&gt;</c> lines, strip, drop empty stories,
    /// collapse runs of blank lines to one newline, BOS + encode, truncate to <paramref name="maxLength"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> Stories(string text, ITextTokenizer tokenizer, int maxLength = 512)
    {
        var stories = new List<IReadOnlyList<int>>();
        var current = new List<string>();
        foreach (var line in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Append("<|endoftext|>"))
        {
            if (line.Trim() != "<|endoftext|>")
            {
                current.Add(line);
                continue;
            }

            var story = BlankLines().Replace(string.Join("\n", current).Trim(), "\n");
            current.Clear();
            if (story.Length > 0)
            {
                stories.Add(tokenizer.Encode(story, addBos: true).Take(maxLength).ToArray());
            }
        }

        return stories;
    }

    /// <summary>Plain text: the whole text encoded once, cut into windows of <paramref name="maxLength"/> ids, each starting with BOS.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> PlainText(string text, ITextTokenizer tokenizer, int maxLength = 512)
    {
        var ids = tokenizer.Encode(text);
        var windows = new List<IReadOnlyList<int>>();
        var body = Math.Max(1, maxLength - 1);
        for (var start = 0; start < ids.Count; start += body)
        {
            var window = new List<int>();
            if (tokenizer.BosId is { } bos)
            {
                window.Add(bos);
            }

            window.AddRange(ids.Skip(start).Take(body));
            windows.Add(window);
        }

        return windows;
    }

    [GeneratedRegex(@"\n\n+")]
    private static partial Regex BlankLines();
}
