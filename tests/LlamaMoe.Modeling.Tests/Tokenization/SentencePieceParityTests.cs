using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats.SentencePiece;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Tokenization;

/// <summary>
/// Parity with google/sentencepiece (bpe_model.cc, normalizer.cc, sentencepiece_processor.cc). Expected ids are derived by
/// hand from the algorithm: best-score merge first with the leftmost pair on ties, a run of unknown characters as one
/// &lt;unk&gt; without byte fallback, UTF-8 byte pieces with it, the dummy prefix, and extra whitespace removed only when
/// the normalizer spec asks for it.
/// </summary>
public sealed class SentencePieceParityTests
{
    // Hand-built model (identity normalizer, add_dummy_prefix, remove_extra_whitespaces off, no byte fallback, as model/init writes):
    // 0 <unk>, 1 <s>, 2 </s>, 3 ▁a (score 0), 4 bc (-1), 5 ▁abc (-2), 6 ▁ (-3), 7 a (-4), 8 b (-5), 9 c (-6).
    private const int Unk = 0, SpaceA = 3, Bc = 4, SpaceAbc = 5, Space = 6, A = 7, B = 8, C = 9;

    private static SentencePieceTextTokenizer TinyModel(TempDirectory dir, IReadOnlyList<string> merges, IReadOnlyList<string> characters)
    {
        var path = Path.Combine(dir.Path, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModelWriter.Write(merges, characters));
        return SentencePieceTextTokenizer.Load(path);
    }

    [TestCase("abc", new[] { SpaceAbc })]
    [TestCase("abc x", new[] { SpaceAbc, Space, Unk })]
    [TestCase("xy", new[] { Space, Unk })] // "xy" is one run of unknown characters: one <unk>
    [TestCase("x\u00e9\u201cy\u201d", new[] { Space, Unk })] // unicode and curly quotes: still one run
    [TestCase("x a", new[] { Space, Unk, SpaceA })]
    [TestCase("a x b", new[] { SpaceA, Space, Unk, Space, B })]
    [TestCase("a1b2", new[] { SpaceA, Unk, B, Unk })] // digits are unknown here; each run is one <unk>
    [TestCase("a  b", new[] { SpaceA, Space, Space, B })] // repeated spaces kept (remove_extra_whitespaces off)
    [TestCase(" a", new[] { Space, SpaceA })] // leading space kept
    [TestCase("a ", new[] { SpaceA, Space })] // trailing space kept
    [TestCase("a\nbc", new[] { SpaceA, Unk, Bc })] // newline is not whitespace under the identity rule
    [TestCase("cab", new[] { Space, C, A, B })]
    [TestCase("", new int[0])]
    public void EncodesLikeSentencePieceWithoutByteFallback(string text, int[] expected)
    {
        using var dir = new TempDirectory();
        var tokenizer = TinyModel(dir, ["▁a", "bc", "▁abc"], ["▁", "a", "b", "c"]);
        Assert.That(tokenizer.Encode(text), Is.EqualTo(expected));
    }

    [Test]
    public void EqualScoresMergeTheLeftmostPairFirst()
    {
        using var dir = new TempDirectory();
        var tokenizer = TinyModel(dir, ["aa"], ["▁", "a"]); // 3 aa, 4 ▁, 5 a
        Assert.That(tokenizer.Encode("aaa"), Is.EqualTo(new[] { 4, 3, 5 }));
    }

    [TestCase(new[] { Space, Unk }, " \u2047 ")] // dummy prefix stripped, then sentencepiece's default unk_surface
    [TestCase(new[] { SpaceA, Space, Space, B }, "a  b")]
    [TestCase(new[] { Space, SpaceA }, " a")] // only the first ▁ is the dummy prefix
    [TestCase(new[] { 1, SpaceAbc, 2 }, "abc")] // control pieces decode to nothing
    [TestCase(new[] { Bc, SpaceA }, "bc a")]
    public void DecodesLikeSentencePiece(int[] ids, string expected)
    {
        using var dir = new TempDirectory();
        var tokenizer = TinyModel(dir, ["▁a", "bc", "▁abc"], ["▁", "a", "b", "c"]);
        Assert.That(tokenizer.Decode(ids), Is.EqualTo(expected));
    }

    [TestCase("a  bc a")]
    [TestCase(" a ")]
    public void KnownTextRoundTripsWithoutByteFallback(string text)
    {
        using var dir = new TempDirectory();
        var tokenizer = TinyModel(dir, ["▁a", "bc", "▁abc"], ["▁", "a", "b", "c"]);
        Assert.That(tokenizer.Decode(tokenizer.Encode(text)), Is.EqualTo(text));
    }

    [Test]
    public void Tok512FallsBackToUtf8BytePieces()
    {
        // tok512: <0x00> is id 3, so byte b is id 3 + b; "你" is E4 BD A0 and "😀" F0 9F 98 80 (neither is a piece).
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var space = tokenizer.TokenToId("▁")!.Value;
        Assert.That(tokenizer.TokenToId("你"), Is.Null);
        Assert.That(tokenizer.Encode("你"), Is.EqualTo(new[] { space, 3 + 0xE4, 3 + 0xBD, 3 + 0xA0 }));
        Assert.That(tokenizer.Encode("你😀"), Is.EqualTo(new[] { space, 3 + 0xE4, 3 + 0xBD, 3 + 0xA0, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80 }));
        Assert.That(tokenizer.Decode([space, 3 + 0xE4, 3 + 0xBD, 3 + 0xA0]), Is.EqualTo("你"));
        Assert.That(tokenizer.Decode([space, 3 + 0xE4, 3 + 0xBD]), Is.EqualTo("\uFFFD\uFFFD"), "a cut UTF-8 sequence: one U+FFFD per byte");
    }

    [Test]
    public void Tok512RemovesExtraWhitespaceAsItsNormalizerSpecSays()
    {
        // tok512's normalizer_spec leaves remove_extra_whitespaces at its default (true).
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var plain = tokenizer.Encode("Once upon a time");
        Assert.That(tokenizer.Encode("  Once   upon a  time  "), Is.EqualTo(plain));
        Assert.That(tokenizer.Encode("   "), Is.Empty);
        Assert.That(tokenizer.Decode(tokenizer.Encode("  Once   upon a  time  ")), Is.EqualTo("Once upon a time"));
    }

    [TestCase("Tom said, \"I'm 42 years old!\" \u2014 she smiled: \u201cok\u201d.")]
    [TestCase("na\u00efve caf\u00e9 \u4f60\u597d \U0001F600 \u2211")]
    [TestCase("line one\nline two\n\ttabbed")]
    [TestCase("3.14159 + 2,718 = 5.86")]
    public void Tok512RoundTripsVariedText(string text)
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        Assert.That(tokenizer.Decode(tokenizer.Encode(text, addBos: true)), Is.EqualTo(text));
    }

    [Test]
    public void Tok512MatchesTheReferenceTokenCountsOfTheTinyStoriesProtocol()
    {
        // REFERENCE.md: 700 stories, 256,750 predicted tokens (BOS + sentencepiece ids, truncated to 512, minus one each).
        var stories = EvaluationCorpus.Stories(File.ReadAllText(SharedData.TinyStoriesValid), SentencePieceTextTokenizer.Load(SharedData.Tok512Model));
        Assert.That(stories, Has.Count.EqualTo(700));
        Assert.That(stories.Sum(s => s.Count - 1), Is.EqualTo(256_750));
    }

    [Test]
    public void QuickstartTokenizerEmitsUnkForCharactersOutsideItsVocabulary()
    {
        using var dir = new TempDirectory();
        var tokenizer = QuickstartTokenizer(dir);
        var story = EvaluationCorpus.Stories(File.ReadAllText(SharedData.TinyStoriesValid), tokenizer, maxLength: int.MaxValue)[0];
        TestContext.Out.WriteLine($"first story: {story.Count - 1} tokens, {story.Count(id => id == 0)} <unk>");
        Assert.That(story.Count(id => id == 0), Is.GreaterThan(0), "TinyStories has characters the synthetic corpus lacks");
        for (var i = 1; i < story.Count; i++)
        {
            Assert.That(story[i] == 0 && story[i - 1] == 0, Is.False, $"adjacent <unk> at {i}: a run of unknown characters is one <unk>");
        }

        Assert.That(story.Count - 1, Is.EqualTo(265), "the sentencepiece count for the first TinyStories story");
    }

    /// <summary>The tokenizer <c>pipelines/quickstart.yaml</c> trains: synthetic data (seed 1, 16 people, 600/40 examples), vocabulary 320.</summary>
    private static SentencePieceTextTokenizer QuickstartTokenizer(TempDirectory dir)
    {
        SyntheticCorpusGenerator.Write(dir.Path, new SyntheticCorpusOptions(Seed: 1, People: 16, TrainExamplesPerDomain: 600, EvalExamplesPerDomain: 40));
        var texts = DataSourceReader.Read(new DataSourceSpec(Path.Combine(dir.Path, "corpus.txt"), DataFormat.Stories))
            .OfType<TextExample>().Select(t => t.Text);
        var path = Path.Combine(dir.Path, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceBpeTrainer.Train(texts, 320));
        return SentencePieceTextTokenizer.Load(path);
    }
}
