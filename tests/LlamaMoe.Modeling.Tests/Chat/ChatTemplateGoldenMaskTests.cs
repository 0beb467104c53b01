using LlamaMoe.Modeling.Chat;
using LlamaMoe.Modeling.Tests.Tokenization;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Chat;

/// <summary>
/// Token-level goldens of the loss masks on a multi-turn conversation: the encoding is cut into runs of equal mask and each
/// run is decoded, so the expected text shows exactly which spans are trained (1) and which are context (0).
/// </summary>
public sealed class ChatTemplateGoldenMaskTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatMessage.System, "Be kind."),
        new(ChatMessage.User, "Who is Lily?"),
        new(ChatMessage.Assistant, "A little girl."),
        new(ChatMessage.User, "What does she like?"),
        new(ChatMessage.Assistant, "She likes the park."),
    ];

    [Test]
    public void Llama3MasksExactlyTheAssistantTurnsAndTheirEot()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTiktoken.WriteModelDirectory(dir));
        Assert.That(Spans(new Llama3ChatTemplate(), tokenizer), Is.EqualTo(new[]
        {
            "0|<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho is Lily?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "1|A little girl.<|eot_id|>",
            "0|<|start_header_id|>user<|end_header_id|>\n\nWhat does she like?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "1|She likes the park.<|eot_id|>",
        }));
    }

    [Test]
    public void Llama2MasksExactlyTheAnswersAndTheirEos()
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        Assert.That(Spans(new Llama2ChatTemplate(), tokenizer), Is.EqualTo(new[]
        {
            "0|<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nWho is Lily? [/INST]",
            "1|A little girl.</s>",
            "0|<s>[INST] What does she like? [/INST]",
            "1|She likes the park.</s>",
        }));
    }

    [Test]
    public void PlainMasksExactlyTheAssistantTextAndItsEos()
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        Assert.That(Spans(new PlainChatTemplate(), tokenizer), Is.EqualTo(new[]
        {
            "0|<s>Be kind.\n Who is Lily?\n",
            "1|A little girl.</s>",
            "0|What does she like?\n",
            "1|She likes the park.</s>",
        }));
    }

    /// <summary>
    /// The encoding as runs of equal mask, each as "mask|decoded text". Special tokens stay visible: tiktoken decodes them;
    /// SentencePiece drops BOS/EOS when decoding, so they are written as &lt;s&gt; and &lt;/s&gt; between decoded pieces.
    /// </summary>
    private static List<string> Spans(IChatTemplate template, ITextTokenizer tokenizer)
    {
        var encoding = template.Encode(Conversation, tokenizer);
        var spans = new List<string>();
        var start = 0;
        for (var i = 1; i <= encoding.Ids.Count; i++)
        {
            if (i == encoding.Ids.Count || encoding.LossMask[i] != encoding.LossMask[start])
            {
                var ids = encoding.Ids.Skip(start).Take(i - start).ToList();
                spans.Add($"{encoding.LossMask[start]}|{Render(ids, tokenizer)}");
                start = i;
            }
        }

        return spans;
    }

    private static string Render(List<int> ids, ITextTokenizer tokenizer)
    {
        if (tokenizer.Kind != "sentencepiece")
        {
            return tokenizer.Decode(ids, skipSpecialTokens: false);
        }

        var text = new System.Text.StringBuilder();
        var piece = new List<int>();
        foreach (var id in ids.Append(-1))
        {
            var special = id == tokenizer.BosId ? "<s>" : id == tokenizer.EosId ? "</s>" : id < 0 ? string.Empty : null;
            if (special is null)
            {
                piece.Add(id);
                continue;
            }

            text.Append(tokenizer.Decode(piece)).Append(special);
            piece.Clear();
        }

        return text.ToString();
    }
}
