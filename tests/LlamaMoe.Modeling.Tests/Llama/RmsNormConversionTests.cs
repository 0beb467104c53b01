using LlamaMoe.Modeling.Llama;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Llama;

/// <summary>Module conversions (<c>to(dtype)</c>, <c>to(device)</c>) must keep the registered and the used weight one tensor.</summary>
public sealed class RmsNormConversionTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void ConvertingToBFloat16KeepsTheRegisteredWeightTheOneForwardUses()
    {
        using var norm = new RmsNorm(8, 1e-5);
        norm.to(ScalarType.BFloat16);
        var registered = norm.named_parameters().Single().parameter;

        Assert.That(registered.dtype, Is.EqualTo(ScalarType.BFloat16));
        Assert.That(registered.Handle, Is.EqualTo(norm.weight.Handle));
    }

    [Test]
    public void WritesThroughTheRegisteredWeightReachTheForwardAfterAConversion()
    {
        using var norm = new RmsNorm(4, 1e-5);
        norm.to(ScalarType.BFloat16);
        using (no_grad())
        {
            norm.named_parameters().Single().parameter.fill_(2.0);
        }

        using var scope = NewDisposeScope();
        var output = norm.forward(ones(1, 4, dtype: ScalarType.BFloat16)); // (1, 4)
        Assert.That(output.to_type(ScalarType.Float32).data<float>().ToArray(), Is.All.EqualTo(2f));
    }
}
