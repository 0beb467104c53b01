using LlamaMoe.Modeling;
using NUnit.Framework;
using TorchSharp;

namespace LlamaMoe.Modeling.Tests;

public sealed class TorchRuntimeTests
{
    [Test]
    public void NativeRuntimeLoadsAndComputesInTheTestOutput()
    {
        TorchRuntime.EnsureLoaded();
        using var sum = torch.ones(3).sum();
        Assert.That(sum.item<float>(), Is.EqualTo(3f));
    }
}
