using LlamaMoe.Modeling.Alignment;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using TorchSharp;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Alignment;

/// <summary>Folding <c>y ↦ a ⊙ y + b</c> into the experts gives exactly that map of the module's output.</summary>
public sealed class AlignmentFoldingTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCase(RoutingWeights.SoftmaxRenormalized, 2, null)]
    [TestCase(RoutingWeights.SoftmaxOverTopK, 1, null)]
    [TestCase(RoutingWeights.Unit, 3, null)]
    [TestCase(RoutingWeights.Softmax, 4, null)]
    [TestCase(RoutingWeights.Softmax, 2, 6)]
    [TestCase(RoutingWeights.SoftmaxRenormalized, 2, 6)]
    public void FoldedMlpBlockOutputIsTheAffineMapOfTheOriginal(RoutingWeights weights, int topK, int? residual)
    {
        torch.manual_seed(3);
        var options = new SparseMoeBlockOptions(16, [5, 7, 6, 6], topK, ScaleFactor: 2.5, ResidualSize: residual, Weights: weights, OutputBias: true);
        using var block = new SparseMoeBlock(options);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var (name, parameter) in block.named_parameters().Where(p => p.name.EndsWith(".bias", StringComparison.Ordinal)))
            {
                parameter.normal_(0, 0.3); // existing biases are rescaled too
            }
        }

        var x = randn(40, 16);                                  // (N, H)
        var (a, b) = (rand(16).add(0.5), randn(16));             // (H), (H)
        var expected = block.forward(x).mul(a).add(b);           // (N, H)
        AlignmentFolding.FoldMlp(block, a, b, layer: 0);
        Assert.That(block.forward(x).sub(expected).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void ABiasUnderUnnormalisedSoftmaxWithoutResidualIsLmoe2501ButAScaleIsFine()
    {
        using var block = new SparseMoeBlock(new SparseMoeBlockOptions(16, [8, 8, 8, 8], 2, Weights: RoutingWeights.Softmax, OutputBias: true));
        using var scope = NewDisposeScope();
        var error = Assert.Throws<LlamaMoeException>(() => AlignmentFolding.FoldMlp(block, ones(16), zeros(16), layer: 3));
        Assert.That(error!.Code, Is.EqualTo("LMOE2501"));
        Assert.That(error.Key, Is.EqualTo("model.layers.3.block_sparse_moe"));
        var x = randn(10, 16);
        var expected = block.forward(x).mul(2);
        AlignmentFolding.FoldMlp(block, full(16, 2f), null, layer: 3);
        Assert.That(block.forward(x).sub(expected).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void FoldingABiasIntoExpertsWithoutBiasIsLmoe2502()
    {
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 2, 8, 1));
        using var scope = NewDisposeScope();
        Assert.That(Assert.Throws<LlamaMoeException>(() => AlignmentFolding.FoldMlp(block, ones(16), zeros(16), layer: 0))!.Code, Is.EqualTo("LMOE2502"));
    }

    [Test]
    public void FoldedAttentionMoeOutputIsTheAffineMapOfTheOriginal()
    {
        var config = Gqa(attentionBias: true);
        using var dense = DenseModel(config, seed: 31);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 2, scaleFactor: 1.5), seed: 2);
        var block = Blocks(moe)[0];
        using var scope = NewDisposeScope();
        var hidden = randn(1, 12, config.HiddenSize);                                         // (1, T, H)
        var (cos, sin) = moe.Model.Rotary.Compute(arange(12).unsqueeze(0), ScalarType.Float32); // (1, T, hd)
        var mask = AttentionMasks.Build(12, 0, null, ScalarType.Float32, hidden.device);
        var (a, b) = (rand(config.HiddenSize).add(0.5), randn(config.HiddenSize));            // (H), (H)
        using var noGrad = no_grad();
        var expected = block.Forward(hidden, cos, sin, mask, null, 0).mul(a).add(b);        // (1, T, H)
        AlignmentFolding.FoldAttention(block, a, b, layer: 0);
        Assert.That(block.Forward(hidden, cos, sin, mask, null, 0).sub(expected).abs().max().item<float>(), Is.LessThan(1e-5f));
    }
}
