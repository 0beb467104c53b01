using LlamaMoe.Modeling.Chat;
using LlamaMoe.Modeling.Tests.Tokenization;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Chat;

public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatMessage.System, "be brief"),
        new(ChatMessage.User, "hello"),
        new(ChatMessage.Assistant, "hello world"),
        new(ChatMessage.User, "world"),
        new(ChatMessage.Assistant, "hello"),
    ];

    [Test]
    public void Llama3MaskCoversExactlyAssistantTokensAndTheirEot()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTiktoken.WriteModelDirectory(dir));
        var encoding = new Llama3ChatTemplate().Encode(Conversation, tokenizer);
        var eot = tokenizer.TokenToId("<|eot_id|>")!.Value;
        Assert.That(encoding.Ids[0], Is.EqualTo(tokenizer.BosId));
        Assert.That(encoding.LossMask, Has.Count.EqualTo(encoding.Ids.Count));
        var trained = encoding.Ids.Where((_, i) => encoding.LossMask[i] == 1).ToList();
        var expected = tokenizer.Encode("hello world").Append(eot).Concat(tokenizer.Encode("hello")).Append(eot);
        Assert.That(trained, Is.EqualTo(expected));
        var eotPositions = Enumerable.Range(0, encoding.Ids.Count).Where(i => encoding.Ids[i] == eot).ToList();
        Assert.That(eotPositions.Select(i => encoding.LossMask[i]), Is.EqualTo(new byte[] { 0, 0, 1, 0, 1 }), "system, user, assistant, user, assistant");
        Assert.That(tokenizer.Decode(encoding.Ids, skipSpecialTokens: false), Does.StartWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nbe brief<|eot_id|>"));
    }

    [Test]
    public void Llama3GenerationPromptEndsWithTheAssistantHeader()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTiktoken.WriteModelDirectory(dir));
        var encoding = new Llama3ChatTemplate().Encode([new(ChatMessage.User, "hello")], tokenizer, addGenerationPrompt: true);
        Assert.That(tokenizer.Decode(encoding.Ids, skipSpecialTokens: false), Does.EndWith("<|start_header_id|>assistant<|end_header_id|>\n\n"));
        Assert.That(encoding.LossMask.All(m => m == 0), Is.True);
    }

    [Test]
    public void Llama2MaskCoversAnswersAndTheirEosOverMultipleTurns()
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var conversation = new ChatMessage[]
        {
            new(ChatMessage.System, "Be kind."), new(ChatMessage.User, "Who is Lily?"), new(ChatMessage.Assistant, "A little girl."),
            new(ChatMessage.User, "What does she like?"), new(ChatMessage.Assistant, "She likes the park."),
        };
        var encoding = new Llama2ChatTemplate().Encode(conversation, tokenizer);
        var trained = encoding.Ids.Where((_, i) => encoding.LossMask[i] == 1).ToList();
        Assert.That(trained, Is.EqualTo(tokenizer.Encode("A little girl.").Append(2).Concat(tokenizer.Encode("She likes the park.")).Append(2)));
        Assert.That(encoding.Ids.Count(id => id == 1), Is.EqualTo(2), "one BOS per exchange");
        var text = tokenizer.Decode(encoding.Ids, skipSpecialTokens: false);
        Assert.That(text, Does.Contain("[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nWho is Lily? [/INST]"));
    }

    [Test]
    public void PlainTemplateTrainsOnlyOnAssistantTextAndEos()
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var encoding = new PlainChatTemplate().Encode([new(ChatMessage.User, "Tell a story."), new(ChatMessage.Assistant, "Once upon a time.")], tokenizer);
        var trained = encoding.Ids.Where((_, i) => encoding.LossMask[i] == 1).ToList();
        Assert.That(trained, Is.EqualTo(tokenizer.Encode("Once upon a time.").Append(2)));
    }

    [Test]
    public void MisplacedSystemMessageIsACodedError() =>
        Assert.That(Assert.Throws<LlamaMoeException>(() => new PlainChatTemplate().Encode([new(ChatMessage.User, "a"), new(ChatMessage.System, "b")], new NullTokenizer()))!.Code,
            Is.EqualTo("LMOE2092"));

    private sealed class NullTokenizer : ITextTokenizer
    {
        public string Kind => "null";
        public int VocabSize => 0;
        public int? BosId => null;
        public int? EosId => null;
        public IReadOnlyList<int> Encode(string text, bool addBos = false) => [];
        public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) => string.Empty;
        public int? TokenToId(string token) => null;
    }
}
