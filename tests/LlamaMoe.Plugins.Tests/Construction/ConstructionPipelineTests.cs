using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class ConstructionPipelineTests
{
    /// <summary>Runs the pipeline text in <paramref name="temp"/>; returns the artifacts folder of the pipeline.</summary>
    internal static async Task<string> RunAsync(TempDirectory temp, string yaml)
    {
        File.WriteAllText(temp.Combine("pipeline.yaml"), yaml);
        var pipeline = PipelineLoader.Load(temp.Combine("pipeline.yaml"), new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        var outcomes = await new PipelineRunner(pipeline, services).RunAsync();
        Assert.That(outcomes.Select(o => o.Status), Is.All.EqualTo(StageStatus.Ran));
        return temp.Combine("artifacts", pipeline.Definition.Name);
    }

    [Test]
    public async Task Stories260KSplitRouterBuildGivesALoadableMoeThatSumsBackToTheDenseModel()
    {
        using var temp = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, temp.Combine("dense"), SharedData.Tok512Model);
        var artifacts = await RunAsync(temp, """
            name: construct
            stages:
              split:
                uses: split-mlp/random
                with: { model: dense, experts: 4, seed: 1 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 4 }
              moe:
                uses: build-moe
                needs: [split, router]
                with: { model: dense, top-k: 2 }
              lossless:
                uses: build-moe
                needs: [split, router]
                with: { model: dense, top-k: 4, scale-factor: 1, routing-weights: unit }
            """);

        var partition = ModelPartition.Read(Path.Combine(artifacts, "split"));
        Assert.That(partition.Layers, Has.Count.EqualTo(5));
        Assert.That(partition.Intermediate, Is.EqualTo(172));
        Assert.That(partition.Layers.Select(l => l.Problem()), Is.All.Null);

        var moeConfig = MoeConfig.Read(Path.Combine(artifacts, "moe", "config.json"));
        Assert.That(moeConfig.ExpertCount, Is.EqualTo(4));
        Assert.That(moeConfig.TopK, Is.EqualTo(2));
        Assert.That(moeConfig.MoeLayers, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.That(moeConfig.ScaleFactors, Is.All.EqualTo(2.0), "E/k by default");
        Assert.That(File.Exists(Path.Combine(artifacts, "moe", "tokenizer.model")), Is.True);

        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var dense = LlamaForCausalLM.FromDirectory(temp.Combine("dense"));
        using var moe = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "moe"));
        using var lossless = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "lossless"));
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 1, 301, 427, 309, 426, 301, 427, 309, 394, 265 }).unsqueeze(0); // (1, T)
        var expected = dense.forward(ids); // (1, T, V)
        Assert.That(moe.forward(ids).shape, Is.EqualTo(expected.shape));
        Assert.That(lossless.forward(ids).sub(expected).abs().max().item<float>(), Is.LessThan(1e-4f), "all experts with unit weights reproduce the dense model");
        Assert.That(moe.forward(ids).sub(expected).abs().max().item<float>(), Is.GreaterThan(1e-3f), "top-2 routing changes the output");
    }

    [Test]
    public async Task ContractLayersStayDenseAndRouterMismatchIsCoded()
    {
        using var temp = new TempDirectory();
        TinyDenseModel.Write(temp.Combine("dense"), layers: 3);
        var artifacts = await RunAsync(temp, """
            name: contract
            stages:
              split:
                uses: split-mlp/sequential
                with: { model: dense, experts: 4 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 4 }
              moe:
                uses: build-moe
                needs: [split, router]
                with: { model: dense, top-k: 1, contract-first: 1, contract-last: 1, routing-weights: softmax-over-top-k }
            """);
        var config = MoeConfig.Read(Path.Combine(artifacts, "moe", "config.json"));
        Assert.That(config.MoeLayers, Is.EqualTo(new[] { 1 }));
        Assert.That(config.Router.Weights, Is.EqualTo(LlamaMoe.Modeling.Moe.RoutingWeights.SoftmaxOverTopK));
        using var model = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "moe"));
        Assert.That(model.Config.NumHiddenLayers, Is.EqualTo(3));

        using var other = new TempDirectory();
        TinyDenseModel.Write(other.Combine("dense"), layers: 3);
        File.WriteAllText(other.Combine("pipeline.yaml"), """
            name: mismatch
            stages:
              split:
                uses: split-mlp/sequential
                with: { model: dense, experts: 4 }
              router:
                uses: router-init/random
                with: { model: dense, experts: 3 }
              moe:
                uses: build-moe
                needs: [split, router]
                with: { model: dense }
            """);
        var pipeline = PipelineLoader.Load(other.Combine("pipeline.yaml"), new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        var error = Assert.CatchAsync<LlamaMoeException>(async () => await new PipelineRunner(pipeline, services).RunAsync());
        Assert.That(error!.Code, Is.EqualTo("LMOE2405"));
        Assert.That(error.Message, Does.Contain("routers are 3 layers of (3, 16)"));
    }
}
