using LlamaMoe.Modeling;
using LlamaMoe.Plugins.Tests.Construction;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Export;

public sealed class ModelCardPipelineTests
{
    [Test]
    public async Task Stories260KMoeExportWritesAModelCardWithRecipeParameterCountsAndEvaluation()
    {
        using var temp = new TempDirectory();
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, $$"""
            name: card
            seed: 7
            stages:
            {{PluginFixtures.SequentialStoriesMoeStages}}
              eval:
                uses: evaluate
                needs: [dense, moe]
                with:
                  baseline: dense
                  tasks:
                    - { task: perplexity, name: stories, data: {{Quote(SharedData.TinyStoriesValid)}}, format: stories, count: 4, max-length: 64 }
              export:
                uses: export
                needs: [moe, eval]
                with: { formats: [native, mixtral, gguf] }
              plain:
                uses: export
                needs: [moe]
                with: { formats: [mixtral] }
            """);

        // stories260K: dim 64, hidden 172, 5 layers. The sequential split makes 4 experts of 43 neurons (no residual) and adds
        // a 4 x 64 router per layer; a token skips 2 of the 4 experts: 5 layers x 2 experts x 3 x 64 x 43 parameters.
        TorchRuntime.EnsureLoaded();
        long denseTotal;
        using (var dense = Modeling.Loading.CausalLanguageModelLoader.Load(Path.Combine(artifacts, "dense")))
        {
            denseTotal = dense.parameters().Sum(p => p.numel());
        }

        var total = denseTotal + 5 * 4 * 64;
        var active = total - 5 * 2 * 3 * 64 * 43;

        foreach (var folder in new[] { "native", "mixtral" })
        {
            var card = File.ReadAllText(Path.Combine(artifacts, "export", folder, "README.md"));
            TestContext.Out.WriteLine(card);
            Assert.That(card, Does.StartWith("---\n"), folder);
            Assert.That(card, Does.Contain("- llama-moe-v2\n"));
            Assert.That(card, Does.Contain($"| total | {total:N0} |"), folder);
            Assert.That(card, Does.Contain($"| active per token | {active:N0} |"), folder);
            Assert.That(card, Does.Contain("| method | LLaMA-MoE v2 |"));
            Assert.That(card, Does.Contain("| split | split-mlp/sequential |"));
            Assert.That(card, Does.Contain("| experts | 4 per MoE layer (43 neurons each) |"));
            Assert.That(card, Does.Contain("| top-k | 2 |"));
            Assert.That(card, Does.Contain("| residual (shared) expert | none |"));
            Assert.That(card, Does.Contain("| router initialisation | router-init/random |"));
            Assert.That(card, Does.Contain("| seed | 7 |"));
            Assert.That(card, Does.Match(@"\| stories \| perplexity \| \d+\.\d{4} \| \d+\.\d{4} \| 4 \|"), "the evaluation table with the dense baseline");
        }

        Assert.That(File.ReadAllText(Path.Combine(artifacts, "export", "mixtral", "README.md")), Does.Contain("library_name: transformers"));
        Assert.That(File.ReadAllText(Path.Combine(artifacts, "export", "native", "README.md")), Does.Not.Contain("library_name"));
        var withoutEvaluation = File.ReadAllText(Path.Combine(artifacts, "plain", "mixtral", "README.md"));
        Assert.That(withoutEvaluation, Does.Contain($"| total | {total:N0} |"));
        Assert.That(withoutEvaluation, Does.Not.Contain("## Evaluation"), "no evaluate stage in needs, no table");
    }
}
