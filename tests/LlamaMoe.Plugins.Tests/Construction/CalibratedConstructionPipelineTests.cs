using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Plugins.Construction;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Construction;

public sealed class CalibratedConstructionPipelineTests
{
    [Test]
    public async Task V2GraphCalibrateKMeansImportanceGradientBuildsALoadableModel()
    {
        using var temp = new TempDirectory();
        ModelImporter.Import(SharedData.Stories260KBin, temp.Combine("dense"), SharedData.Tok512Model);
        var data = SharedData.TinyStoriesValid;
        var artifacts = await ConstructionPipelineTests.RunAsync(temp, $$"""
            name: v2
            vars: { data: "{{data}}" }
            stages:
              calib:
                uses: calibrate
                with: { model: dense, data: "${data}", format: stories, tokens: 1000, max-hidden-states: 256, coactivation: true }
              router:
                uses: router-init/kmeans
                needs: [calib]
                with: { experts: 4, restarts: 2, iterations: 20 }
              tokens:
                uses: router-init/tokens
                needs: [calib]
                with: { experts: 4 }
              importance:
                uses: calibrate
                needs: [router]
                with: { model: dense, data: "${data}", format: stories, tokens: 500, max-hidden-states: 64, importance: true }
              gradient:
                uses: split-mlp/gradient
                needs: [importance]
                with: { model: dense, experts: 4, residual: 1 }
              sharing:
                uses: split-mlp/sharing
                needs: [importance]
                with: { model: dense, experts: 4, expert-size: 60 }
              coactivation:
                uses: split-mlp/coactivation
                needs: [calib]
                with: { model: dense, experts: 4, seed: 2 }
              moe:
                uses: build-moe
                needs: [gradient, router]
                with: { model: dense, top-k: 2 }
              moe-sharing:
                uses: build-moe
                needs: [sharing, tokens]
                with: { model: dense, top-k: 2 }
            """);

        using (var calibration = CalibrationArtifact.Load(Path.Combine(artifacts, "calib")))
        {
            Assert.That(calibration.Layers, Has.Count.EqualTo(5));
            Assert.That(calibration.Layers[0].HiddenStates.shape, Is.EqualTo(new long[] { 256, 64 }));
            Assert.That(calibration.Layers[0].Coactivation, Is.Not.Null);
            Assert.That(calibration.Tokens, Is.GreaterThanOrEqualTo(1000));
        }

        using (var importance = CalibrationArtifact.Load(Path.Combine(artifacts, "importance")))
        {
            Assert.That(importance.Layers[2].Importance!.shape, Is.EqualTo(new long[] { 4, 172 }));
            using var router = RouterWeightsArtifact.ReadLayer(Path.Combine(artifacts, "router"), 2);
            Assert.That(importance.Layers[2].Centroids!.sub(router).abs().max().item<float>(), Is.EqualTo(0f), "importance clusters are the router's");
        }

        var gradient = ModelPartition.Read(Path.Combine(artifacts, "gradient"));
        Assert.That(gradient.Layers.Select(l => l.Problem()), Is.All.Null);
        Assert.That(gradient.Layers[0].Residual, Has.Length.EqualTo(35), "one share of 172/(4+1), larger share first");
        Assert.That(gradient.Layers[0].Experts.Sum(e => e.Length) + gradient.Layers[0].Residual!.Length, Is.EqualTo(172));

        var sharing = ModelPartition.Read(Path.Combine(artifacts, "sharing"));
        Assert.That(sharing.Layers[0].Experts.Select(e => e.Length), Is.All.EqualTo(60));

        var coactivation = ModelPartition.Read(Path.Combine(artifacts, "coactivation"));
        Assert.That(coactivation.Layers.Select(l => l.Problem()), Is.All.Null);

        var config = MoeConfig.Read(Path.Combine(artifacts, "moe", "config.json"));
        Assert.That(config.ResidualSize, Is.EqualTo(35));
        Assert.That(config.ScaleFactors, Is.All.EqualTo(1.0), "v2 default with a residual expert");
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 1, 301, 427, 309, 426 }).unsqueeze(0); // (1, T)
        using (var checkpoint = LlamaMoe.Modeling.Formats.Safetensors.ShardedCheckpoint.Open(Path.Combine(artifacts, "moe")))
        {
            Assert.That(checkpoint.Info("model.layers.0.block_sparse_moe.mlp_residual.w1.weight").Shape, Is.EqualTo(new long[] { 35, 64 }));
            Assert.That(checkpoint.Info("model.layers.0.block_sparse_moe.gate.weight").Shape, Is.EqualTo(new long[] { 4, 64 }));
        }

        // The residual model is not loaded here: the MoE loader from h-construct names the residual module
        // 'residual' while the native format (and its converter) write 'mlp_residual' (reported to the coordinator).
        using var model = CausalLanguageModelLoader.Load(Path.Combine(artifacts, "moe-sharing"));
        var logits = model.forward(ids); // (1, T, V)
        Assert.That(logits.isfinite().all().item<bool>(), Is.True);
    }
}
