using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Alignment;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

/// <summary><c>align</c> after build-moe on stories260K: what it changes and what it keeps.</summary>
public sealed class AlignPipelineTests
{
    [Test]
    public async Task AligningALosslessMoeLeavesItUnchangedAndAligningTopTwoMatchesTheDenseStatistics()
    {
        using var temp = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, temp.Combine("dense"), SharedData.Tok512Model);
        var data = temp.Combine("stories.txt");
        File.WriteAllText(data, string.Join("<|endoftext|>\n", File.ReadAllText(SharedData.TinyStoriesValid).Split("<|endoftext|>\n").Take(12)) + "<|endoftext|>\n");
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, $$"""
            name: align
            stages:
              split:
                uses: split-mlp/random
                with: { model: dense, experts: 4, seed: 1 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 4 }
              heads:
                uses: split-attention/gqa
                with: { model: dense }
              lossless:
                uses: build-moe
                needs: [split, router]
                with: { model: dense, top-k: 4, scale-factor: 1, routing-weights: unit }
              lossless-aligned:
                uses: align
                needs: [lossless]
                with: { model: dense, data: {{PluginFixtures.Quote(data)}}, format: stories, tokens: 256, max-length: 64 }
              moe:
                uses: build-moe
                needs: [split, router, heads]
                with: { model: dense, top-k: 2, attention-top-k: 3 }
              aligned:
                uses: align
                needs: [moe]
                with: { model: dense, data: {{PluginFixtures.Quote(data)}}, format: stories, tokens: 256, max-length: 64 }
              scaled:
                uses: align
                needs: [moe]
                with: { model: dense, data: {{PluginFixtures.Quote(data)}}, format: stories, tokens: 256, max-length: 64, bias: false }
            """);

        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var dense = LlamaForCausalLM.FromDirectory(temp.Combine("dense"));
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 1, 301, 427, 309, 426, 301, 427, 309, 394, 265 }).unsqueeze(0); // (1, T)
        var expected = dense.forward(ids);                                                              // (1, T, V)
        var tolerance = 1e-5f * expected.abs().max().item<float>();

        // Identity statistics (the lossless MoE already has the dense distributions): a = 1, b = 0, same function.
        using (var losslessAligned = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "lossless-aligned")))
        {
            Assert.That(losslessAligned.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(tolerance));
            Assert.That(losslessAligned.Config.MlpBias, Is.True);
        }

        // Real statistics: every aligned module's output now has the dense mean and variance on the calibration tokens,
        // so aligning again finds a = 1 and b = 0, while the unaligned top-2 model was far from them.
        var sequences = Sequences(temp.Combine("dense"), data);
        using var moe = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "moe"));
        using var aligned = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "aligned"));
        var before = Realign(dense, moe, sequences);
        var after = Realign(dense, aligned, sequences);
        Assert.That(after.Select(m => (m.Layer, m.Module)), Is.EqualTo(Enumerable.Range(0, 5).SelectMany(l => new[] { (l, "attention"), (l, "mlp") })));
        Assert.That(before.Max(m => Math.Abs(m.MeanScale - 1)), Is.GreaterThan(0.05), "top-2 routing changes the output distribution");
        Assert.That(after.Select(m => Math.Abs(m.MeanScale - 1)), Is.All.LessThan(1e-5));
        Assert.That(after.Select(m => m.MaxAbsShift), Is.All.LessThan(1e-5));

        // Only the output projections (and their biases) change; routers, w1/w3, q/k/v, norms and embeddings are kept.
        using var moeCheckpoint = ShardedCheckpoint.Open(Path.Combine(artifacts, "moe"));
        using var alignedCheckpoint = ShardedCheckpoint.Open(Path.Combine(artifacts, "aligned"));
        foreach (var name in moeCheckpoint.Names)
        {
            var same = moeCheckpoint.Read(name).eq(alignedCheckpoint.Read(name)).all().item<bool>();
            var isOutput = name.Contains(".w2.", StringComparison.Ordinal) || name.Contains(".o_proj.", StringComparison.Ordinal);
            Assert.That(same, Is.EqualTo(!isOutput), name);
        }

        Assert.That(alignedCheckpoint.Names.Where(n => n.EndsWith(".bias", StringComparison.Ordinal) && !n.Contains(".w2.", StringComparison.Ordinal) && !n.Contains(".o_proj.", StringComparison.Ordinal))
            .Select(n => alignedCheckpoint.Read(n).abs().max().item<float>()), Is.All.EqualTo(0f), "the other new biases are zero");

        // bias: false keeps the model bias-free and fixes the variance only.
        using var scaled = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "scaled"));
        Assert.That(scaled.Config.MlpBias || scaled.Config.AttentionBias, Is.False);
        Assert.That(Realign(dense, scaled, sequences, bias: false).Max(m => Math.Abs(m.MeanScale - 1)), Is.LessThan(1e-5));
    }

    private static IReadOnlyList<ModuleAlignment> Realign(LlamaForCausalLM dense, LlamaForCausalLM moe, IReadOnlyList<int[]> sequences, bool bias = true)
    {
        var (model, modules) = DistributionAlignment.Align(dense, moe, sequences, new AlignmentOptions(bias));
        model.Dispose();
        return modules;
    }

    private static IReadOnlyList<int[]> Sequences(string dense, string data)
    {
        var tokenizer = TokenizerLoader.Load(dense);
        var examples = LlamaMoe.Modeling.Calibration.CalibrationCorpus.Load(data, "stories", tokenizer, "llama3", 64);
        var taken = new List<int[]>();
        long tokens = 0;
        foreach (var example in examples.TakeWhile(_ => tokens < 256))
        {
            taken.Add(example.Ids);
            tokens += example.Length;
        }

        return taken;
    }
}
