using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests.Llama;

public sealed class DirectoryAndGenerationTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void LoadedDirectorySavesWithItsTokenizerAndGenerationConfig()
    {
        using var dir = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, dir.Combine("a"), SharedData.Tok512Model);
        using (var model = LlamaForCausalLM.FromDirectory(dir.Combine("a")))
        {
            model.SaveDirectory(dir.Combine("b"));
        }

        Assert.That(File.ReadAllBytes(dir.Combine("b", "tokenizer.model")), Is.EqualTo(File.ReadAllBytes(SharedData.Tok512Model)));
        Assert.That(File.ReadAllText(dir.Combine("b", "generation_config.json")), Is.EqualTo(File.ReadAllText(dir.Combine("a", "generation_config.json"))));
        Assert.That(File.ReadAllBytes(dir.Combine("b", "model.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.Combine("a", "model.safetensors"))));
        Assert.That(Directory.GetFiles(dir.Combine("b"), "*.tmp-*"), Is.Empty, "no temp files left");
    }

    [Test]
    public void SeededSamplingIsReproducibleAndTopKOneIsGreedy()
    {
        torch.manual_seed(11);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        int[] prompt = [0, 5, 7];
        var sampled = new GenerationOptions(MaxNewTokens: 12, Temperature: 1.0, TopP: 0.95, TopK: 50, Seed: 42);
        var first = TextGenerator.Generate(model, prompt, sampled);
        Assert.That(TextGenerator.Generate(model, prompt, sampled), Is.EqualTo(first));
        Assert.That(TextGenerator.Generate(model, prompt, sampled with { Seed = 43 }), Is.Not.EqualTo(first));
        var greedy = TextGenerator.Generate(model, prompt, new GenerationOptions(MaxNewTokens: 12));
        Assert.That(TextGenerator.Generate(model, prompt, sampled with { TopK = 1 }), Is.EqualTo(greedy));
    }

    [Test]
    public void GenerationStopsAtAStopToken()
    {
        torch.manual_seed(12);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        var greedy = TextGenerator.Generate(model, [0, 5, 7], new GenerationOptions(MaxNewTokens: 8));
        var stopped = TextGenerator.Generate(model, [0, 5, 7], new GenerationOptions(MaxNewTokens: 8, StopTokenIds: [greedy[2]]));
        Assert.That(stopped, Is.EqualTo(greedy.Take(greedy.ToList().IndexOf(greedy[2]) + 1)));
    }

    [Test]
    public void OutOfRangeGenerationOptionsAreACodedError() =>
        Assert.That(Assert.Throws<LlamaMoeException>(() => new GenerationOptions(TopP: 0).Validate())!.Code, Is.EqualTo("LMOE3801"));
}
