using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Tokenization;

public sealed class TokenizerTests
{
    [Test]
    public void TiktokenRankFileIsDetectedAndEncodesWithMerges()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTiktoken.WriteModelDirectory(dir));
        Assert.That(tokenizer.Kind, Is.EqualTo("tiktoken"));
        Assert.That(tokenizer.Encode("hello world"), Is.EqualTo(new[] { 259, 263 }));
        Assert.That(tokenizer.Decode(tokenizer.Encode("hello world!", addBos: true)), Is.EqualTo("hello world!"));
        Assert.That(tokenizer.BosId, Is.EqualTo(TinyTiktoken.BaseCount));
        Assert.That(tokenizer.TokenToId("<|eot_id|>"), Is.EqualTo(TinyTiktoken.BaseCount + 9));
        Assert.That(tokenizer.TokenToId("<|start_header_id|>"), Is.EqualTo(TinyTiktoken.BaseCount + 6));
    }

    [Test]
    public void SpecialTokenTextInsideUserContentIsNotAControlToken()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTiktoken.WriteModelDirectory(dir));
        var ids = tokenizer.Encode("a<|eot_id|>b");
        Assert.That(ids.Any(id => id >= TinyTiktoken.BaseCount), Is.False);
        Assert.That(tokenizer.Decode(ids), Is.EqualTo("a<|eot_id|>b"));
    }

    [Test]
    public void SentencePieceModelIsDetectedAndMatchesTheReferenceIds()
    {
        using var dir = new TempDirectory();
        File.Copy(SharedData.Tok512Model, dir.Combine("tokenizer.model"));
        var tokenizer = TokenizerLoader.Load(dir.Path);
        Assert.That(tokenizer.Kind, Is.EqualTo("sentencepiece"));
        Assert.That(tokenizer.Encode("Spot. Spot saw", addBos: true), Is.EqualTo(new[] { 1, 301, 427, 309, 426, 301, 427, 309, 394 }));
        Assert.That(tokenizer.Decode(tokenizer.Encode("Spot. Spot saw", addBos: true)), Is.EqualTo("Spot. Spot saw"));
        Assert.That(tokenizer.BosId, Is.EqualTo(1));
        Assert.That(tokenizer.EosId, Is.EqualTo(2));
    }

    [TestCase("x")]
    [TestCase("zebra ü ∑ 42")]
    [TestCase("")]
    public void SentencePieceRoundTripsRareCharactersThroughByteFallback(string text)
    {
        var tokenizer = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        var ids = tokenizer.Encode(text, addBos: true);
        TestContext.Out.WriteLine(string.Join(",", ids));
        Assert.That(ids[0], Is.EqualTo(1));
        Assert.That(tokenizer.Decode(ids), Is.EqualTo(text));
    }

    [Test]
    public void Llama3TokenizerJsonWithoutTokenizerModelLoadsAsTiktoken()
    {
        using var dir = new TempDirectory();
        var tokenizer = TokenizerLoader.Load(TinyTokenizerJson.Write(dir));
        Assert.That(tokenizer.Kind, Is.EqualTo("tiktoken"));
        Assert.That(tokenizer.Encode("hello world"), Is.EqualTo(new[] { 259, 263 }));
        Assert.That(tokenizer.BosId, Is.EqualTo(TinyTiktoken.BaseCount));
        Assert.That(tokenizer.TokenToId("<|eot_id|>"), Is.EqualTo(TinyTiktoken.BaseCount + 1));
        Assert.That(tokenizer.Decode(tokenizer.Encode("hello world ünï", addBos: true)), Is.EqualTo("hello world ünï"));
    }

    [Test]
    public void MissingTokenizerIsACodedError()
    {
        using var dir = new TempDirectory();
        Assert.That(Assert.Throws<LlamaMoeException>(() => TokenizerLoader.Load(dir.Path))!.Code, Is.EqualTo("LMOE1150"));
    }
}
