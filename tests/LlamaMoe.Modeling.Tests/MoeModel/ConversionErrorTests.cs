using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.MoeModel;

public sealed class ConversionErrorTests
{
    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [TestCase("coactivation", "random")]
    [TestCase("gradient", "random")]
    [TestCase("sharing", "random")]
    [TestCase("random", "kmeans")]
    [TestCase("sequential", "tokens")]
    public void MethodsThatNeedCalibrationRefuseToRunWithoutIt(string split, string router)
    {
        var error = Assert.Throws<LlamaMoeException>(() => ConstructionPlanner.Check(new ConstructionOptions(4, 2, split, router), null))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2207"));
    }

    [Test]
    public void UnknownSplitOrRouterNamesAreCoded()
    {
        Assert.That(Assert.Throws<LlamaMoeException>(() => ConstructionPlanner.Check(new ConstructionOptions(4, 2, "magic"), null))!.Code, Is.EqualTo("LMOE2208"));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ConstructionPlanner.Check(new ConstructionOptions(4, 2, "random", "oracle"), null))!.Code, Is.EqualTo("LMOE2208"));
    }

    [Test]
    public void PlansThatDoNotFitTheCheckpointAreRefused()
    {
        using var work = new TempDirectory("plan-mismatch");
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), ConversionFixture.RandomLlama3(), seed: 1);
        using var router = zeros(4, 32);
        var wrongWidth = new Dictionary<int, MoeLayerPlan>
        {
            [0] = new(SimpleSplits.Sequential(40, 4), router),
            [1] = new(SimpleSplits.Sequential(40, 4), router),
        };
        var error = Assert.Throws<LlamaMoeException>(() => MoeConverter.Convert(dense, work.Combine("out"), wrongWidth, new MoeConversionOptions(2)))!;
        Assert.That(error.Code, Is.EqualTo("LMOE2206"));
        Assert.That(Directory.Exists(work.Combine("out")), Is.False);

        using var wrongRouter = zeros(3, 32);
        var missingLayer = new Dictionary<int, MoeLayerPlan> { [0] = new(SimpleSplits.Sequential(48, 4), router) };
        Assert.That(Assert.Throws<LlamaMoeException>(() => MoeConverter.Convert(dense, work.Combine("out"), missingLayer, new MoeConversionOptions(2)))!.Code, Is.EqualTo("LMOE2206"));
        var badRouter = new Dictionary<int, MoeLayerPlan> { [0] = new(SimpleSplits.Sequential(48, 4), wrongRouter), [1] = new(SimpleSplits.Sequential(48, 4), router) };
        Assert.That(Assert.Throws<LlamaMoeException>(() => MoeConverter.Convert(dense, work.Combine("out"), badRouter, new MoeConversionOptions(2)))!.Code, Is.EqualTo("LMOE2206"));
    }

    [Test]
    public void ContractLayersThatLeaveNoMoeLayerAndExistingOutputsAreRefused()
    {
        using var work = new TempDirectory("options");
        var dense = ConversionFixture.SaveRandomDense(work.Combine("dense"), ConversionFixture.RandomLlama3(), seed: 1);
        var options = new ConstructionOptions(4, 2, "random", ContractFirst: 1, ContractLast: 1);
        Assert.That(Assert.Throws<LlamaMoeException>(() => ConstructionPlanner.Plan(dense, options, null))!.Code, Is.EqualTo("LMOE2212"));
        Directory.CreateDirectory(work.Combine("out"));
        File.WriteAllText(work.Combine("out", "keep.txt"), "x");
        var plain = new ConstructionOptions(4, 2, "random");
        var plans = ConstructionPlanner.Plan(dense, plain, null);
        Assert.That(Assert.Throws<LlamaMoeException>(() => MoeConverter.Convert(dense, work.Combine("out"), plans, ConstructionPlanner.ConversionOptions(plain)))!.Code, Is.EqualTo("LMOE2211"));
        Assert.That(File.Exists(work.Combine("out", "keep.txt")), Is.True);
    }
}
