using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class DeviceNamesTests
{
    [TestCase("cpu", true, "cpu")]
    [TestCase("cuda", false, "cuda")]
    [TestCase("auto", true, "cuda")]
    [TestCase("auto", false, "cpu")]
    public void ResolveKeepsAnExplicitDeviceAndTurnsAutoIntoWhatIsAvailable(string requested, bool cudaAvailable, string expected) =>
        Assert.That(DeviceNames.Resolve(requested, () => cudaAvailable), Is.EqualTo(expected));

    [Test]
    public void AnExplicitDeviceNeverAsksWhetherCudaIsAvailable() =>
        Assert.That(DeviceNames.Resolve("cpu", () => throw new InvalidOperationException("probed")), Is.EqualTo("cpu"));

    [TestCase("auto", true)]
    [TestCase("cpu", true)]
    [TestCase("cuda", true)]
    [TestCase("CUDA", false)]
    [TestCase("gpu", false)]
    [TestCase("", false)]
    [TestCase(null, false)]
    public void OnlyTheThreeLowerCaseNamesAreKnown(string? name, bool known) =>
        Assert.That(DeviceNames.IsKnown(name), Is.EqualTo(known));

    [Test]
    public void ThePipelineSelectionAndTheSharedParserAgree()
    {
        foreach (var name in DeviceNames.All)
        {
            Assert.That(new Services.DeviceSelection(name, () => false).Kind, Is.EqualTo(DeviceNames.Resolve(name, () => false)), name);
        }
    }
}
