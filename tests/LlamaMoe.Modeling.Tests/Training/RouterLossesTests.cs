using LlamaMoe.Modeling.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class RouterLossesTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void SwitchLossHasANonZeroGradientIntoTheRouter()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn(64, 16); // (N, D)
        var router = randn(16, 8).requires_grad_(true); // (D, E)
        var logits = x.matmul(router); // (N, E)
        var selected = logits.detach().topk(2, dim: -1).indexes; // (N, K)

        RouterLosses.SwitchLoadBalancing(logits, selected).backward();

        Assert.That(router.grad!.abs().sum().item<float>(), Is.GreaterThan(1e-3f));
    }

    [Test]
    public void SwitchLossIsOneWhenBalancedAndLargerWhenSkewed()
    {
        using var scope = NewDisposeScope();
        var uniform = zeros(8, 4); // (N, E)
        var balancedSelection = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 }).reshape(8, 1); // (N, 1)
        Assert.That(RouterLosses.SwitchLoadBalancing(uniform, balancedSelection).item<float>(), Is.EqualTo(1f).Within(1e-6));

        var skewed = tensor(new float[] { 4, 0, 0, 0 }).expand(8, 4); // (N, E): everyone prefers expert 0
        var allZero = zeros(8, 1, dtype: ScalarType.Int64); // (N, 1)
        // P_0 = e^4 / (e^4 + 3) = 0.94794, f_0 = 1 → loss = 4 · 0.94794 = 3.7918.
        Assert.That(RouterLosses.SwitchLoadBalancing(skewed, allZero).item<float>(), Is.EqualTo(3.7918f).Within(1e-3));
    }

    [Test]
    public void SwitchLossIgnoresMaskedPaddingTokens()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0, 0, 9, 0 }).reshape(2, 2); // token 1 (padding) strongly prefers expert 0
        var selected = tensor(new long[] { 1, 0 }).reshape(2, 1);
        var mask = tensor(new[] { true, false });
        // Only token 0 counts: f = (0, 1), P = (0.5, 0.5) → 2 · 0.5 = 1.
        Assert.That(RouterLosses.SwitchLoadBalancing(logits, selected, mask).item<float>(), Is.EqualTo(1f).Within(1e-6));
    }

    [Test]
    public void MixtralV2ParityLossIsTheConstantEWithoutGradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var router = randn(16, 8).requires_grad_(true);
        var logits = randn(100, 16).matmul(router); // (N, E)

        var loss = RouterLosses.MixtralV2Parity(logits, 2);
        loss.backward();

        Assert.That(loss.item<float>(), Is.EqualTo(8f).Within(1e-5));
        Assert.That(router.grad!.abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void CvSquaredLossMatchesAHandComputationAndHasARouterGradient()
    {
        using var scope = NewDisposeScope();
        // Two tokens, three experts, k = 1: top-1 softmax scores are 1, so importance = load = (1, 1, 0).
        // CV²((1,1,0)) = var/mean² = (1/3) / (4/9) = 0.75 with unbiased variance 1/3; total 1.5.
        var router = tensor(new float[] { 2, 1, 0, 0, 3, 1 }).reshape(2, 3).requires_grad_(true);
        var selected = tensor(new long[] { 0, 1 }).reshape(2, 1);
        var loss = RouterLosses.CoefficientOfVariationSquared(router * 1, selected);
        Assert.That(loss.item<float>(), Is.EqualTo(1.5f).Within(1e-5));

        var router2 = randn(32, 8).requires_grad_(true); // (N, E) logits as leaves
        RouterLosses.CoefficientOfVariationSquared(router2 * 1, router2.detach().topk(2, dim: -1).indexes).backward();
        Assert.That(router2.grad!.abs().sum().item<float>(), Is.GreaterThan(1e-4f));
    }

    [Test]
    public void ZLossIsTheMeanSquaredLogSumExp()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(3, 4); // logsumexp = ln 4
        Assert.That(RouterLosses.ZLoss(logits).item<float>(), Is.EqualTo((float)(Math.Log(4) * Math.Log(4))).Within(1e-5));
    }
}
