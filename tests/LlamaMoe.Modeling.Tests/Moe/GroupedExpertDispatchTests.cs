using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Moe;

public sealed class GroupedExpertDispatchTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void GroupedDispatchMatchesPerExpertDispatchInOutputAndEveryGradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(24, 6, 10, 2, scaleFactor: 3.0) with { ResidualSize = 8 });
        var x = randn(5, 13, 24); // (B, T, H)
        var (grouped, groupedGrads) = ForwardBackward(block, x, ExpertDispatchMode.Auto);
        var (perExpert, perExpertGrads) = ForwardBackward(block, x, ExpertDispatchMode.PerExpert);

        Assert.That((grouped - perExpert).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(groupedGrads.Keys, Is.EquivalentTo(perExpertGrads.Keys));
        foreach (var (name, grad) in perExpertGrads)
        {
            Assert.That((groupedGrads[name] - grad).abs().max().item<float>(), Is.LessThan(1e-4f), name);
            Assert.That(grad.abs().sum().item<float>(), Is.GreaterThan(0f), name);
        }
    }

    [Test]
    public void GroupedDispatchRunsForUniformExpertsWithoutBiasesOnly()
    {
        using var scope = NewDisposeScope();
        using var uniform = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 2));
        using var unequal = new SparseMoeBlock(new SparseMoeBlockOptions(16, [8, 6, 8, 8], 2));
        using var biased = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 2) with { OutputBias = true });
        Assert.That(GroupedExpertDispatch.Supports(uniform.Experts), Is.True);
        Assert.That(GroupedExpertDispatch.Supports(unequal.Experts), Is.False);
        Assert.That(GroupedExpertDispatch.Supports(biased.Experts), Is.False);
    }

    [Test]
    public void GroupedDispatchDeclinesAHeavilySkewedLoad()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 1));
        var x = randn(40, 16); // (N, H)
        var selected = zeros(40, 1, dtype: ScalarType.Int64); // (N, 1) every token but one on expert 0
        selected[0, 0] = tensor(3L);
        Assert.That(GroupedExpertDispatch.TryRun(x, ones(40, 1), selected, block.Experts, 1.0), Is.Null);
    }

    [Test]
    public void GroupedRunEqualsPerExpertRunIncludingRoutingWeightAndInputGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(14);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(16, 4, 8, 2));
        var selected = rand(200, 4).topk(2, dim: -1).indexes; // (N, K) distinct experts per token
        var results = new List<(Tensor Output, Tensor InputGrad, Tensor WeightGrad)>();
        foreach (var grouped in new[] { true, false })
        {
            manual_seed(15);
            var x = randn(200, 16).requires_grad_(); // (N, H)
            var weights = rand(200, 2).requires_grad_(); // (N, K)
            var output = grouped
                ? GroupedExpertDispatch.TryRun(x, weights, selected, block.Experts, 2.0)
                : ExpertDispatch.Run(x, weights, selected, block.Experts, 2.0); // (N, H)
            Assert.That(output, Is.Not.Null);
            output!.square().sum().backward();
            results.Add((output.detach(), x.grad!.clone(), weights.grad!.clone()));
        }

        Assert.That((results[0].Output - results[1].Output).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That((results[0].InputGrad - results[1].InputGrad).abs().max().item<float>(), Is.LessThan(1e-4f));
        Assert.That((results[0].WeightGrad - results[1].WeightGrad).abs().max().item<float>(), Is.LessThan(1e-4f));
    }

    [Test]
    public void GroupedDispatchMatchesPerExpertDispatchInBFloat16()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(32, 8, 16, 2, scaleFactor: 4.0));
        block.to(ScalarType.BFloat16);
        var x = randn(64, 32).to(ScalarType.BFloat16); // (N, H)
        block.DispatchMode = ExpertDispatchMode.PerExpert;
        var perExpert = block.forward(x).to_type(ScalarType.Float32); // (N, H)
        block.DispatchMode = ExpertDispatchMode.Auto;
        var grouped = block.forward(x).to_type(ScalarType.Float32); // (N, H)
        var relative = (grouped - perExpert).abs().max().item<float>() / perExpert.abs().max().item<float>();
        Assert.That(relative, Is.LessThan(0.02f));
    }

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) ForwardBackward(SparseMoeBlock block, Tensor x, ExpertDispatchMode mode)
    {
        block.zero_grad();
        block.DispatchMode = mode;
        var output = block.forward(x); // (B, T, H)
        output.square().sum().backward();
        var gradients = block.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        return (output.detach(), gradients);
    }
}
