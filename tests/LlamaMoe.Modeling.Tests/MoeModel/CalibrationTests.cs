using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.MoeModel;

public sealed class CalibrationTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void ArtifactRoundTripsBitwiseAndHasTheDocumentedShapes()
    {
        using var work = new TempDirectory("calibration-artifact");
        var config = ConversionFixture.RandomLlama3();
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 3);
        var samples = ConversionFixture.RandomSamples(config.VocabSize, 5, 20, seed: 2);
        using var artifact = ConversionFixture.Calibrate(dense, 3, samples, maxHiddenStates: 64);
        Assert.That(artifact.Tokens, Is.EqualTo(100));
        var layer = artifact.Layers[1];
        Assert.That(layer.HiddenStates.shape, Is.EqualTo(new long[] { 64, 32 }), "reservoir bounded at 64 of 100 tokens");
        Assert.That(layer.MeanAbsActivation.shape, Is.EqualTo(new long[] { 48 }));
        Assert.That(layer.ActiveFrequency.max().item<float>(), Is.LessThanOrEqualTo(1f));
        Assert.That(layer.Coactivation!.shape, Is.EqualTo(new long[] { 48, 48 }));
        Assert.That(layer.Centroids!.shape, Is.EqualTo(new long[] { 3, 32 }));
        Assert.That(layer.Importance!.shape, Is.EqualTo(new long[] { 3, 48 }));
        Assert.That(layer.ImportanceTokens!.sum().item<double>(), Is.EqualTo(100), "every token is assigned to one cluster");
        Assert.That(layer.Importance.gt(0).any().item<bool>(), Is.True);

        artifact.Save(work.Combine("calibration"));
        using var loaded = CalibrationArtifact.Load(work.Combine("calibration"));
        loaded.CheckMatches(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize);
        for (var i = 0; i < artifact.Layers.Count; i++)
        {
            Assert.That(loaded.Layers[i].HiddenStates.bytes.SequenceEqual(artifact.Layers[i].HiddenStates.bytes), Is.True);
            Assert.That(loaded.Layers[i].Importance!.bytes.SequenceEqual(artifact.Layers[i].Importance!.bytes), Is.True);
            Assert.That(loaded.Layers[i].Coactivation!.bytes.SequenceEqual(artifact.Layers[i].Coactivation!.bytes), Is.True);
        }

        var error = Assert.Throws<LlamaMoeException>(() => loaded.CheckMatches(3, 32, 48))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2209"));
    }

    [Test]
    public void HiddenStatesAreThePostAttentionNormOutputsAndSamplingIsSeeded()
    {
        using var work = new TempDirectory("calibration-states");
        var config = ConversionFixture.RandomLlama3();
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 4);
        var samples = ConversionFixture.RandomSamples(config.VocabSize, 1, 12, seed: 9);
        using var model = LlamaForCausalLM.FromDirectory(dense);
        using var first = Calibrator.Run(model, samples, new CalibrationOptions(MaxHiddenStates: 16));
        using var second = Calibrator.Run(model, samples, new CalibrationOptions(MaxHiddenStates: 16));
        Assert.That(first.Layers[0].HiddenStates.bytes.SequenceEqual(second.Layers[0].HiddenStates.bytes), Is.True);

        // With capacity ≥ tokens the reservoir keeps every token in order: compare with the model's own layer-0 MLP input.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = tensor(samples[0].Ids.Select(i => (long)i).ToArray()).unsqueeze(0); // (1, T)
        var layer = model.Model.Layers[0];
        var (cos, sin) = model.Model.Rotary.Compute(arange(12).unsqueeze(0), ScalarType.Float32);
        var embedded = model.Model.EmbedTokens.forward(ids); // (1, T, D)
        var h = embedded + layer.Attention.Forward(layer.InputLayerNorm.forward(embedded), cos, sin, null, null, 0); // (1, T, D)
        var expected = layer.PostAttentionLayerNorm.forward(h)[0]; // (T, D)
        Assert.That((first.Layers[0].HiddenStates - expected).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void ChatCalibrationMasksThePromptAndImportanceNeedsTargets()
    {
        using var work = new TempDirectory("calibration-chat");
        var config = ConversionFixture.RandomLlama3();
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), config, seed: 5);
        var promptOnly = new EncodedExample(Enumerable.Range(3, 10).ToArray(), new bool[10]);
        using var model = LlamaForCausalLM.FromDirectory(dense);
        using var artifact = Calibrator.Run(model, [promptOnly], new CalibrationOptions(MaxHiddenStates: 8, ImportanceClusters: 2,
            KMeans: points => LlamaMoe.Modeling.Construction.BalancedKMeansOptions.Jittered(points, 2, restarts: 1, maxIterations: 5)));
        Assert.That(artifact.Layers[0].ImportanceTokens!.sum().item<double>(), Is.Zero, "no target token: no gradient sample");
        Assert.That(artifact.Tokens, Is.EqualTo(10), "activation statistics still use every token");
    }
}
