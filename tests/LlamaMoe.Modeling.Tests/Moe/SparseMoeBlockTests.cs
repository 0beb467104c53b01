using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Moe;

public sealed class SparseMoeBlockTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void DispatchEqualsANaivePerExpertMaskedReferenceForTopTwo()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var options = new SparseMoeBlockOptions(32, [20, 24, 16, 20, 28], TopK: 2, ScaleFactor: 2.5, ResidualSize: 12);
        using var block = new SparseMoeBlock(options);
        var x = randn(3, 17, 32); // (B, T, H)

        var actual = block.forward(x); // (B, T, H)
        var expected = NaiveReference(block, x.reshape(-1, 32)).reshape(x.shape); // (B, T, H)
        Assert.That((actual - expected).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void V1SoftmaxOverTopKEqualsV2RenormalisedSoftmax()
    {
        using var scope = NewDisposeScope();
        var logits = randn(50, 8); // (N, E)
        var (w1, e1) = ExpertRouting.Select(logits, 2, RoutingWeights.SoftmaxOverTopK, ScalarType.Float32);
        var (w2, e2) = ExpertRouting.Select(logits, 2, RoutingWeights.SoftmaxRenormalized, ScalarType.Float32);
        Assert.That(e1.eq(e2).all().item<bool>(), Is.True);
        Assert.That((w1 - w2).abs().max().item<float>(), Is.LessThan(1e-6f));
        var (plain, _) = ExpertRouting.Select(logits, 2, RoutingWeights.Softmax, ScalarType.Float32);
        Assert.That(plain.sum(-1).max().item<float>(), Is.LessThan(1f));
    }

    [Test]
    public void GradientsReachTheRouterAndEveryExpert()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 12, 2, 2.0) with { ResidualSize = 8 });
        var x = randn(64, 16); // (N, H)
        block.forward(x).square().sum().backward();

        Assert.That(block.Gate.InputProjection.grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
        foreach (var expert in block.Experts.Append(block.Residual!))
        {
            foreach (var linear in new[] { expert.W1, expert.W2, expert.W3 })
            {
                Assert.That(linear.weight!.grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
            }
        }
    }

    [Test]
    public void TanhMlpRouterWithNoiseHasV1ParameterNamesAndGetsGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var options = SparseMoeBlockOptions.Uniform(16, 4, 8, 2) with { Router = RouterNetwork.TanhMlp, NoisyGate = true, Weights = RoutingWeights.SoftmaxOverTopK };
        using var block = new SparseMoeBlock(options);
        var names = block.state_dict().Keys.ToHashSet();
        Assert.That(names, Is.SupersetOf(new[] { "gate.gate_network.0.weight", "gate.gate_network.2.weight", "gate.weight_noise.weight" }));
        Assert.That(block.state_dict()["gate.weight_noise.weight"].abs().sum().item<float>(), Is.Zero);

        block.train();
        block.forward(randn(48, 16)).sum().backward();
        Assert.That(block.Gate.InputProjection.grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
    }

    [Test]
    public void NoisyGateChangesSelectionsOnlyInTraining()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 8, 8, 2) with { NoisyGate = true });
        block.RecordRouting = true;
        var x = randn(200, 16); // (N, H)
        block.eval();
        var clean = block.forward(x);
        var cleanSelected = block.LastSelectedExperts!.clone();
        Assert.That(block.forward(x).eq(clean).all().item<bool>(), Is.True);
        block.train();
        block.forward(x);
        Assert.That(block.LastSelectedExperts!.eq(cleanSelected).all().item<bool>(), Is.False);
    }

    [Test]
    public void MixtralParameterNamesAndShapes()
    {
        using var block = new SparseMoeBlock(new SparseMoeBlockOptions(16, [6, 10], 1, ResidualSize: 4, OutputBias: true));
        var shapes = block.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        Assert.That(block.StateDictName, Is.EqualTo("block_sparse_moe"));
        Assert.That(shapes["gate.weight"], Is.EqualTo(new long[] { 2, 16 }));
        Assert.That(shapes["experts.1.w1.weight"], Is.EqualTo(new long[] { 10, 16 }));
        Assert.That(shapes["experts.1.w3.weight"], Is.EqualTo(new long[] { 10, 16 }));
        Assert.That(shapes["experts.1.w2.weight"], Is.EqualTo(new long[] { 16, 10 }));
        Assert.That(shapes["experts.0.w2.bias"], Is.EqualTo(new long[] { 16 }));
        Assert.That(shapes["mlp_residual.w1.weight"], Is.EqualTo(new long[] { 4, 16 }));
        Assert.That(shapes["mlp_residual.w2.weight"], Is.EqualTo(new long[] { 16, 4 }));
        Assert.That(shapes.Keys, Has.None.Contains("experts.0.w1.bias"));
    }

    [Test]
    public void RoutingIsRecordedInTheGraphOnlyWhenAsked()
    {
        using var scope = NewDisposeScope();
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 2));
        var x = randn(2, 5, 16); // (B, T, H)
        block.forward(x);
        Assert.That(block.LastRouterLogits, Is.Null);

        block.RecordRouting = true;
        block.forward(x);
        Assert.That(block.LastRouterLogits!.shape, Is.EqualTo(new long[] { 10, 4 }));
        Assert.That(block.LastRouterLogits.requires_grad, Is.True);
        Assert.That(block.LastSelectedExperts!.shape, Is.EqualTo(new long[] { 10, 2 }));
        var first = block.LastRouterLogits;
        block.forward(x);
        Assert.That(first.IsInvalid, Is.True, "the block disposes the logits it still owns on the next pass");
    }

    [Test]
    public void BFloat16InputsRunInBFloat16()
    {
        using var scope = NewDisposeScope();
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 2));
        block.to(ScalarType.BFloat16);
        var y = block.forward(randn(9, 16).to(ScalarType.BFloat16));
        Assert.That(y.dtype, Is.EqualTo(ScalarType.BFloat16));
    }

    [Test]
    public void InvalidOptionsAreRefusedWithACode()
    {
        var error = Assert.Throws<LlamaMoeException>(() => new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 5)))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2101"));
    }

    private static Tensor NaiveReference(SparseMoeBlock block, Tensor x)
    {
        var logits = nn.functional.linear(x, block.Gate.InputProjection); // (N, E)
        var probabilities = logits.softmax(-1); // (N, E)
        var (top, ids) = probabilities.topk(block.Options.TopK, dim: -1); // (N, K)
        top = top / top.sum(-1, keepdim: true);
        var output = block.Residual!.forward(x); // (N, H)
        for (var e = 0; e < block.Experts.Count; e++)
        {
            var weight = (top * ids.eq(e).to(ScalarType.Float32)).sum(-1, keepdim: true); // (N, 1) zero for tokens not routed to e
            output = output + (weight * block.Options.ScaleFactor * block.Experts[e].forward(x)); // (N, H)
        }

        return output;
    }
}
