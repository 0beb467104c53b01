using LlamaMoe.Modeling.Chat;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>
/// Turns calibration files into token sequences with loss masks: plain text (chunks of the whole file), stories
/// (one sequence per story, as the perplexity protocol) or chat jsonl through a chat template (prompt tokens masked).
/// </summary>
public static class CalibrationCorpus
{
    /// <summary>The supported format names.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["text", "stories", "chat"];

    /// <summary>Loads <paramref name="path"/> in <paramref name="format"/>.</summary>
    /// <param name="path">The data file.</param>
    /// <param name="format"><c>text</c>, <c>stories</c> or <c>chat</c>.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="chatTemplate">Template name for chat data (<c>llama3</c>, <c>llama2</c>, <c>plain</c>).</param>
    /// <param name="maxLength">Longest sequence (longer ones are cut).</param>
    /// <param name="maxSamples">Use at most this many sequences (the first ones), or all when null.</param>
    /// <exception cref="LlamaMoeException">LMOE2208 for an unknown format, LMOE2210 when nothing usable is left.</exception>
    public static IReadOnlyList<EncodedExample> Load(string path, string format, ITextTokenizer tokenizer, string chatTemplate = "llama3", int maxLength = 512, int? maxSamples = null)
    {
        IEnumerable<EncodedExample> examples = format switch
        {
            "text" => EvaluationCorpus.PlainText(Data.InputFile.ReadAllText(path), tokenizer, maxLength).Select(s => EncodedExample.AllTargets(s.ToArray())),
            "stories" => EvaluationCorpus.Stories(Data.InputFile.ReadAllText(path), tokenizer, maxLength).Select(s => EncodedExample.AllTargets(s.ToArray())),
            "chat" => EncodeChats(path, tokenizer, ChatTemplates.Get(chatTemplate), maxLength),
            _ => throw new LlamaMoeException(ConstructionErrorCodes.UnknownMethod, $"unknown calibration format '{format}'", path, "calibration-format",
                "Use text, stories or chat."),
        };
        var list = examples.Where(e => e.Length >= 2).Take(maxSamples ?? int.MaxValue).ToList();
        if (list.Count == 0)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationDataEmpty, "the calibration data has no sequence of two or more tokens", path, advice: "Pass a non-empty calibration file in the right format.");
        }

        return list;
    }

    private static IEnumerable<EncodedExample> EncodeChats(string path, ITextTokenizer tokenizer, IChatTemplate template, int maxLength)
    {
        foreach (var example in ChatJsonlReader.Read(path).OfType<ChatExample>())
        {
            var messages = example.Messages.Select(m => new Chat.ChatMessage(m.Role, m.Content)).ToList();
            var encoding = template.Encode(messages, tokenizer);
            var length = Math.Min(maxLength, encoding.Ids.Count);
            yield return new EncodedExample(encoding.Ids.Take(length).ToArray(), encoding.LossMask.Take(length).Select(b => b != 0).ToArray());
        }
    }
}
