using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;
using TextGenerator = LlamaMoe.Modeling.Generation.TextGenerator;

namespace LlamaMoe.Modeling.Tests.Import;

public sealed class Stories260KImportTests
{
    private const string ReferenceGreedy =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

    private static TempDirectory? work;
    private static string binDir = string.Empty;

    [OneTimeSetUp]
    public void ImportBin()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("stories260k");
        binDir = work.Combine("bin");
        ModelImporter.Import(SharedData.Stories260KBin, binDir, SharedData.Tok512Model);
    }

    [OneTimeTearDown]
    public void Cleanup() => work?.Dispose();

    [Test]
    public void BinAndGgufImportsGiveBitwiseIdenticalWeights()
    {
        var ggufDir = work!.Combine("gguf");
        ModelImporter.Import(SharedData.Stories260KGguf, ggufDir);
        using var fromBin = ShardedCheckpoint.Open(binDir);
        using var fromGguf = ShardedCheckpoint.Open(ggufDir);
        Assert.That(fromGguf.Names, Is.EqualTo(fromBin.Names));
        Assert.That(fromBin.Names, Has.Count.EqualTo(1 + (5 * 9) + 1), "tied embeddings: no lm_head");
        foreach (var name in fromBin.Names)
        {
            using var a = fromBin.Read(name);
            using var b = fromGguf.Read(name);
            Assert.That(a.bytes.SequenceEqual(b.bytes), Is.True, name);
        }
    }

    [Test]
    public void GgufTokenizerEncodesLikeTok512()
    {
        var ggufDir = work!.Combine("gguf-tok");
        ModelImporter.Import(SharedData.Stories260KGguf, ggufDir);
        var fromGguf = TokenizerLoader.Load(ggufDir);
        var reference = SentencePieceTextTokenizer.Load(SharedData.Tok512Model);
        foreach (var text in new[] { "Once upon a time, there was a little girl named Lily.", "Tom said: \"Wow!\" 123 ü", "\nnew line" })
        {
            Assert.That(fromGguf.Encode(text, addBos: true), Is.EqualTo(reference.Encode(text, addBos: true)), text);
        }
    }

    [Test]
    public void GreedyGenerationReproducesTheReferenceText()
    {
        using var model = LlamaForCausalLM.FromDirectory(binDir);
        var tokenizer = TokenizerLoader.Load(binDir);
        var prompt = tokenizer.Encode("Once upon a time", addBos: true);
        var generated = TextGenerator.Generate(model, prompt, new GenerationOptions(MaxNewTokens: 64));
        var text = tokenizer.Decode(prompt.Concat(generated));
        Assert.That(text, Does.StartWith(ReferenceGreedy));
        Assert.That(text[ReferenceGreedy.Length..].TrimStart(' ', '\n'), Does.StartWith("Lily"));
    }

    [Test]
    public void GreedyGenerationWithCacheMatchesWithoutCache()
    {
        using var model = LlamaForCausalLM.FromDirectory(binDir);
        var tokenizer = TokenizerLoader.Load(binDir);
        var ids = tokenizer.Encode("Once upon a time", addBos: true).ToList();
        var cached = TextGenerator.Generate(model, ids, new GenerationOptions(MaxNewTokens: 12));
        for (var i = 0; i < 12; i++)
        {
            using var input = TorchSharp.torch.tensor(ids.Select(x => (long)x).ToArray()).unsqueeze(0);
            using var logits = model.forward(input);
            ids.Add((int)logits[0, -1].argmax().item<long>());
        }

        Assert.That(ids.Skip(ids.Count - 12), Is.EqualTo(cached));
    }

    [Test]
    public void PerplexityOnTinyStoriesMatchesTheReference()
    {
        using var model = LlamaForCausalLM.FromDirectory(binDir);
        var tokenizer = TokenizerLoader.Load(binDir);
        var stories = EvaluationCorpus.Stories(File.ReadAllText(SharedData.TinyStoriesValid), tokenizer);
        Assert.That(stories, Has.Count.EqualTo(700));
        Assert.That(stories[0].Take(24), Is.EqualTo(new[] { 1, 301, 427, 309, 426, 301, 427, 309, 394, 265, 262, 415, 271, 422, 280, 295, 269, 336, 432, 313, 448, 327, 432, 410 }));
        var result = PerplexityEvaluator.Evaluate(model, stories);
        Assert.That(result.Tokens, Is.EqualTo(256_750));
        Assert.That(result.MeanNll, Is.EqualTo(1.447262).Within(0.0005));
        Assert.That(result.MeanNll, Is.EqualTo(1.44726203582644).Within(1e-5), "this implementation's float32 value before perplexity batching moved to the device");
        TestContext.Out.WriteLine($"mean NLL {result.MeanNll:G15}, perplexity {result.Perplexity:F4}");
    }
}
