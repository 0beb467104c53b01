using LlamaMoe.Modeling;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Plugins.Construction;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

/// <summary>split-attention/gqa feeding build-moe: attention-MoE models built by a pipeline.</summary>
public sealed class AttentionMoePipelineTests
{
    [Test]
    public async Task Stories260KAttentionMoeWithEveryExpertSelectedIsLosslessAndV2DefaultsApply()
    {
        using var temp = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, temp.Combine("dense"), SharedData.Tok512Model);
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, """
            name: attention
            stages:
              split:
                uses: split-mlp/random
                with: { model: dense, experts: 4, seed: 1 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 4 }
              heads:
                uses: split-attention/gqa
                with: { model: dense, split: 2 }
              uniform-heads:
                uses: split-attention/gqa
                with: { model: dense, split: 1, layers: [1, 3], router-init: zero }
              lossless:
                uses: build-moe
                needs: [split, router, heads]
                with: { model: dense, top-k: 4, scale-factor: 1, routing-weights: unit, attention-top-k: 8, attention-scale-factor: 1, attention-routing-weights: unit }
              v2:
                uses: build-moe
                needs: [split, router, heads]
                with: { model: dense, top-k: 2 }
              uniform:
                uses: build-moe
                needs: [split, router, uniform-heads]
                with: { model: dense, top-k: 4, scale-factor: 1, routing-weights: unit, attention-top-k: 4, attention-scale-factor: 4 }
            """);

        // stories260K: 8 query heads, 4 KV heads (G = 2); split 2 gives 8 experts of one query head each.
        var header = AttentionExpertsArtifact.ReadHeader(Path.Combine(artifacts, "heads"));
        Assert.That(header.Experts, Is.EqualTo(8));
        Assert.That(header.Layers, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.That(header.Heads.Select(h => h.KeyValueHead), Is.EqualTo(new[] { 0, 0, 1, 1, 2, 2, 3, 3 }));
        Assert.That(header.Heads.Select(h => h.QueryHeads.Single()), Is.EqualTo(Enumerable.Range(0, 8)));

        var v2Config = MoeConfig.Read(Path.Combine(artifacts, "v2", "config.json"));
        var v2Options = AttentionMoeOptionsJson.Read(v2Config.AttentionMoe);
        Assert.That(v2Options, Is.EqualTo(new AttentionMoeOptions(8, 7, 1.0, 2, [0, 1, 2, 3, 4])), "v2 defaults: top-(n−1), scale 1, softmax renormalised");

        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var dense = LlamaForCausalLM.FromDirectory(temp.Combine("dense"));
        using var lossless = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "lossless"));
        using var v2 = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "v2"));
        using var uniform = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "uniform"));
        Assert.That(v2.Model.Layers.Select(l => l.Attention), Is.All.InstanceOf<AttentionMoeBlock>());
        Assert.That(v2.Model.Layers.Select(l => ((AttentionMoeBlock)l.Attention).OutputProjections.Count), Is.All.EqualTo(8));
        Assert.That(uniform.Model.Layers.Select(l => l.Attention is AttentionMoeBlock), Is.EqualTo(new[] { false, true, false, true, false }));
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 1, 301, 427, 309, 426, 301, 427, 309, 394, 265, 280, 311 }).unsqueeze(0); // (1, T)
        var expected = dense.forward(ids); // (1, T, V)
        var tolerance = 1e-5f * expected.abs().max().item<float>(); // float32 rounding of both MoE kinds, relative to the logit range
        Assert.That(lossless.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(tolerance), "every attention and MLP expert at weight 1 reproduces the dense model");
        Assert.That(uniform.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(tolerance), "zero routers, all 4 experts, scale 4: uniform weights 1/4 × 4");
        Assert.That(v2.forward(ids).sub(expected).abs().max().item<float>(), Is.GreaterThan(1e-3f), "top-7 attention and top-2 MLP routing change the output");
    }

    [Test]
    public async Task AttentionOptionsWithoutASplitAttentionStageAreLmoe2402()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Combine("dense"));
        var error = await FailAsync(temp, """
            name: no-heads
            stages:
              split:
                uses: split-mlp/sequential
                with: { model: dense, experts: 2 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 2 }
              moe:
                uses: build-moe
                needs: [split, router]
                with: { model: dense, attention-top-k: 1 }
            """);
        Assert.That(error.Code, Is.EqualTo("LMOE2402"));
        Assert.That(error.Message, Does.Contain("split-attention"));
    }

    [TestCase("split: 3", "LMOE2302", "split")]
    [TestCase("layers: [0, 2]", "LMOE2302", "layers")]
    public async Task SplitsThatDoNotFitTheModelAreCoded(string option, string code, string key)
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Combine("dense")); // 2 layers, 4 query heads, 2 KV heads (G = 2)
        var error = await FailAsync(temp, $$"""
            name: misfit
            stages:
              heads:
                uses: split-attention/gqa
                with: { model: dense, {{option}} }
            """);
        Assert.That(error.Code, Is.EqualTo(code));
        Assert.That(error.Key, Does.EndWith(key));
    }

    [Test]
    public async Task AttentionExpertsOfAnotherModelAreLmoe2407()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Combine("dense"));
        TinyDenseModel.Write(temp.Combine("deeper"), layers: 3);
        var error = await FailAsync(temp, """
            name: other-model
            stages:
              split:
                uses: split-mlp/sequential
                with: { model: dense, experts: 2 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 2 }
              heads:
                uses: split-attention/gqa
                with: { model: deeper }
              moe:
                uses: build-moe
                needs: [split, router, heads]
                with: { model: dense, top-k: 1 }
            """);
        Assert.That(error.Code, Is.EqualTo("LMOE2407"));
    }

    private static async Task<LlamaMoeException> FailAsync(TempDirectory temp, string yaml)
    {
        File.WriteAllText(temp.Combine("pipeline.yaml"), yaml);
        var pipeline = PipelineLoader.Load(temp.Combine("pipeline.yaml"), new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        return Assert.CatchAsync<LlamaMoeException>(async () => await new PipelineRunner(pipeline, services).RunAsync())!;
    }
}
