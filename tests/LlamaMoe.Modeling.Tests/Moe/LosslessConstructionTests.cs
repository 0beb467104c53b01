using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Moe;

/// <summary>
/// With top-k = E, every routing weight 1 and scale 1, an MoE block sliced from a dense MLP must reproduce it:
/// the experts partition the neurons, and SwiGLU is separable over neurons.
/// </summary>
public sealed class LosslessConstructionTests
{
    private const int Hidden = 64;
    private const int Intermediate = 172;
    private const int Experts = 4;

    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    public static IEnumerable<string> Methods() => ["random", "sequential", "clustering", "coactivation", "gradient", "gradient-residual"];

    [TestCaseSource(nameof(Methods))]
    public void UnitRoutingOverAllExpertsEqualsTheDenseMlp(string method)
    {
        using var scope = NewDisposeScope();
        using var dense = new DenseSwiGlu(Hidden, Intermediate, seed: 21);
        var x = randn(new long[] { 2, 24, Hidden }, generator: new Generator(5)); // (B, T, H)
        var partition = Split(method, dense, x.reshape(-1, Hidden));
        partition.Validate();

        var options = ExpertSlicer.OptionsFor(partition, Hidden, topK: partition.ExpertCount, scaleFactor: 1.0) with { Weights = RoutingWeights.Unit };
        using var block = new SparseMoeBlock(options);
        ExpertSlicer.LoadDense(block, dense.Weights, partition);

        var expected = dense.Forward(x); // (B, T, H)
        var actual = block.forward(x); // (B, T, H)
        Assert.That(actual.shape, Is.EqualTo(x.shape));
        Assert.That((actual - expected).abs().max().item<float>(), Is.LessThan(1e-5f), method);
    }

    [Test]
    public void ZeroRouterWithScaleEEqualsTheDenseMlpUnderV2Routing()
    {
        // Spec §9.6: uniform softmax weights 1/E over all E experts, times scale_factor E.
        using var scope = NewDisposeScope();
        using var dense = new DenseSwiGlu(Hidden, Intermediate, seed: 3);
        var partition = SimpleSplits.Random(Intermediate, Experts, seed: 3);
        using var block = new SparseMoeBlock(ExpertSlicer.OptionsFor(partition, Hidden, Experts, scaleFactor: Experts));
        ExpertSlicer.LoadDense(block, dense.Weights, partition);
        using (no_grad())
        {
            block.Gate.InputProjection.zero_();
        }

        var x = randn(40, Hidden); // (N, H)
        Assert.That((block.forward(x) - dense.Forward(x)).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void MlpBiasesAreSlicedLosslessly()
    {
        using var scope = NewDisposeScope();
        using var dense = new DenseSwiGlu(Hidden, Intermediate, seed: 8, bias: true);
        var partition = SimpleSplits.Sequential(Intermediate, Experts);
        var options = ExpertSlicer.OptionsFor(partition, Hidden, Experts, 1.0) with { Weights = RoutingWeights.Unit, MlpBias = true };
        using var block = new SparseMoeBlock(options);
        ExpertSlicer.LoadDense(block, dense.Weights, partition);
        var x = randn(30, Hidden); // (N, H)
        Assert.That((block.forward(x) - dense.Forward(x)).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void APartitionThatDoesNotMatchTheBlockIsRefusedWithACode()
    {
        using var scope = NewDisposeScope();
        using var dense = new DenseSwiGlu(Hidden, Intermediate, seed: 1);
        using var block = new SparseMoeBlock(SparseMoeBlockOptions.Uniform(Hidden, Experts, 40, 2));
        var error = Assert.Throws<LlamaMoeException>(() => ExpertSlicer.LoadDense(block, dense.Weights, SimpleSplits.Random(Intermediate, Experts, 0)))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2109"));
    }

    private static ExpertPartition Split(string method, DenseSwiGlu dense, Tensor tokens)
    {
        switch (method)
        {
            case "random":
                return SimpleSplits.Random(Intermediate, Experts, seed: 1);
            case "sequential":
                return SimpleSplits.Sequential(Intermediate, Experts);
            case "clustering":
                return ClusteringSplit.Split(dense.Up.contiguous().data<float>().ToArray(), Intermediate, Hidden, Experts, seed: 0, maxIterations: 50);
            case "coactivation":
                {
                    using var graph = new CoactivationGraph(Intermediate);
                    graph.Add(nn.functional.linear(tokens, dense.Up)); // up_proj outputs (N, I)
                    return CoactivationSplit.Split(graph.ToArray(), Intermediate, Experts, seed: 2);
                }

            default:
                {
                    var residual = method == "gradient-residual";
                    var clusters = residual ? Experts - 1 : Experts;
                    var centroids = RouterInitialization.RandomTokenRows(tokens, clusters, seed: 4); // (E, H)
                    var ids = RouterInitialization.AssignClusters(tokens, centroids); // (N)
                    var h = dense.Hidden(tokens); // (N, I)
                    var g = randn_like(h); // stands in for dL/dh
                    using var accumulator = new ImportanceAccumulator(clusters, Intermediate);
                    accumulator.Add(h, g, ids);
                    var scores = accumulator.ScoresAsArrays();
                    return residual ? GradientSplit.GreedyWithResidual(scores) : GradientSplit.Greedy(scores);
                }
        }
    }
}
