using LlamaMoe.Modeling.Data;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Data;

public sealed class DataReadersTests
{
    [Test]
    public void ChatReaderReadsMessagesAndShareGptConversations()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("chat.jsonl");
        File.WriteAllLines(path,
        [
            """{"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""",
            "",
            """{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}""",
        ]);

        var examples = ChatJsonlReader.Read(path).Cast<ChatExample>().ToList();

        Assert.That(examples[0].Messages.Select(m => m.Role), Is.EqualTo(new[] { "system", "user", "assistant" }));
        Assert.That(examples[1].Messages, Is.EqualTo(new[] { new ChatMessage("user", "q"), new ChatMessage("assistant", "a") }));
        Assert.That(examples[1].Line, Is.EqualTo(3));
    }

    [Test]
    public void BadLinesRaiseCodedErrorsNamingFileAndLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("bad.jsonl");
        File.WriteAllLines(path, ["""{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}""", "{not json"]);
        var malformed = Assert.Throws<LlamaMoeException>(() => ChatJsonlReader.Read(path));
        Assert.That((malformed!.Code, malformed.Line, malformed.FilePath), Is.EqualTo(("LMOE3002", 2, path)));

        File.WriteAllLines(path, ["""{"messages":[{"role":"user","content":"x"},{"role":"wizard","content":"y"}]}"""]);
        var role = Assert.Throws<LlamaMoeException>(() => ChatJsonlReader.Read(path));
        Assert.That((role!.Code, role.Line, role.Key), Is.EqualTo(("LMOE3003", 1, "role")));

        var missing = Assert.Throws<LlamaMoeException>(() => InstructionJsonlReader.Read(dir.Combine("none.jsonl")));
        Assert.That(missing!.Code, Is.EqualTo("LMOE3001"));
    }

    [Test]
    public void InstructionReaderJoinsInstructionAndInputAndExpandsInstances()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inst.jsonl");
        File.WriteAllLines(path,
        [
            """{"instruction":"Add","input":"1+1","output":"2"}""",
            """{"instruction":"Greet","instances":[{"input":"","output":"Hi"},{"input":"Bob","output":"Hi Bob"}]}""",
        ]);

        var examples = InstructionJsonlReader.Read(path).Cast<ChatExample>().ToList();

        Assert.That(examples.Select(e => e.Messages[0].Content), Is.EqualTo(new[] { "Add\n\n1+1", "Greet", "Greet\n\nBob" }));
        Assert.That(examples.Select(e => e.Messages[1].Content), Is.EqualTo(new[] { "2", "Hi", "Hi Bob" }));
    }

    [Test]
    public void StoriesReaderSplitsOnEndOfTextLines()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("stories.txt");
        File.WriteAllText(path, "One.\n\nTwo lines.\n<|endoftext|>\nSecond story.\n<|endoftext|>\n");

        var stories = TextDocumentReader.ReadStories(path).Cast<TextExample>().ToList();

        Assert.That(stories.Select(s => s.Text), Is.EqualTo(new[] { "One.\n\nTwo lines.", "Second story." }));
        Assert.That(stories.Select(s => s.Line), Is.EqualTo(new[] { 1, 5 }));
    }

    [Test]
    public void SharedTinyStoriesAndGsm8kFilesReadCompletely()
    {
        Assert.That(TextDocumentReader.ReadStories(SharedData.TinyStoriesValid), Has.Count.EqualTo(700));
        var gsm = Gsm8kJsonlReader.ReadProblems(SharedData.File("gsm8k", "test_shared.jsonl"));
        Assert.That(gsm, Has.Count.EqualTo(1019));
        Assert.That(InstructionJsonlReader.Read(SharedData.File("instruct", "self_instruct_seed_tasks.jsonl")).Count, Is.GreaterThanOrEqualTo(175));
    }

    [Test]
    public void MixHonoursWeightsAndIsDeterministic()
    {
        var a = Enumerable.Range(0, 10).Select(i => EncodedExample.AllTargets([1, i])).ToList();
        var b = Enumerable.Range(0, 10).Select(i => EncodedExample.AllTargets([2, i])).ToList();

        var mix = DataMix.Combine([(a, 3.0), (b, 1.0)], seed: 5, totalExamples: 40);
        var again = DataMix.Combine([(a, 3.0), (b, 1.0)], seed: 5, totalExamples: 40);

        Assert.That(mix.Count(e => e.Ids[0] == 1), Is.EqualTo(30));
        Assert.That(mix.Count(e => e.Ids[0] == 2), Is.EqualTo(10));
        Assert.That(mix.Select(e => e.Ids[1] * 10 + e.Ids[0]), Is.EqualTo(again.Select(e => e.Ids[1] * 10 + e.Ids[0])));
        Assert.Throws<LlamaMoeException>(() => DataMix.Combine([(a, 0.0)], seed: 1));
    }

    [Test]
    public void CacheIsReusedForTheSameSourceAndEncoderAndMissedWhenTheEncoderChanges()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("t.jsonl");
        File.WriteAllLines(path, ["""{"text":"abc"}""", """{"text":"de"}"""]);
        var source = new DataSourceSpec(path, DataFormat.TextJsonl);
        var encoder = new CharEncoder("chars-v1");

        var first = EncodedDatasetCache.LoadOrEncode(source, encoder, dir.Combine("cache"));
        var second = EncodedDatasetCache.LoadOrEncode(source, encoder, dir.Combine("cache"));
        var other = EncodedDatasetCache.LoadOrEncode(source, new CharEncoder("chars-v2"), dir.Combine("cache"));

        Assert.That((first.FromCache, second.FromCache, other.FromCache), Is.EqualTo((false, true, false)));
        Assert.That(second.Examples.Select(e => string.Join(',', e.Ids)), Is.EqualTo(new[] { "97,98,99", "100,101" }));
        Assert.That(second.Examples[0].LossMask, Is.EqualTo(new[] { false, true, true }));
        Assert.That(Directory.GetFiles(dir.Combine("cache")).Where(f => f.Contains(".tmp-")), Is.Empty);
    }

    [Test]
    public void BatchStreamResumedFromItsCursorYieldsTheSameBatches()
    {
        var straight = new BatchStream(7, 3, seed: 9);
        var all = Enumerable.Range(0, 6).Select(_ => straight.Next()).ToList();

        var first = new BatchStream(7, 3, seed: 9);
        var head = Enumerable.Range(0, 2).Select(_ => first.Next()).ToList();
        var resumed = new BatchStream(7, 3, seed: 9, cursor: first.Cursor);
        var tail = Enumerable.Range(0, 4).Select(_ => resumed.Next()).ToList();

        Assert.That(head.Concat(tail), Is.EqualTo(all));
        Assert.That(all.Take(2).SelectMany(b => b).Concat(all[2].Take(1)).Order(), Is.EqualTo(Enumerable.Range(0, 7)));
    }

    private sealed class CharEncoder(string id) : IExampleEncoder
    {
        public string Id => id;

        public EncodedExample Encode(DataExample example) => EncodedExample.AllTargets(((TextExample)example).Text.Select(c => (int)c).ToArray());
    }
}
