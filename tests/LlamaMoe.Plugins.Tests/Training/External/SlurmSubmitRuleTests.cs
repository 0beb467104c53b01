using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// Whether a <c>kind: slurm</c> stage submits itself: with no <c>sbatch</c> on PATH it writes the bundle and stops with
/// LMOE3400 (the command to run), unless <c>slurm.submit: true</c> insists (LMOE3433). Submitting is covered by SlurmPipelineTests.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SlurmSubmitRuleTests
{
    private BundleFixture? fixture;
    private string? previousPath;

    [SetUp]
    public void HideSbatch()
    {
        fixture = new BundleFixture(residual: false);
        previousPath = Environment.GetEnvironmentVariable("PATH");
        var empty = Path.Combine(fixture.Sandbox.Root, "empty-path");
        Directory.CreateDirectory(empty);
        Environment.SetEnvironmentVariable("PATH", empty);
    }

    [TearDown]
    public void Restore()
    {
        Environment.SetEnvironmentVariable("PATH", previousPath);
        fixture?.Dispose();
    }

    [Test]
    public async Task WithoutSbatchASlurmStageWritesTheBundleAndStopsWithTheSubmitCommand()
    {
        var stop = await fixture!.RunAsync(fixture.Options("kind: slurm"));

        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand), stop?.Message);
        Assert.That(stop!.Message, Does.Contain("sbatch --parsable").And.Contain("sbatch is not on PATH"));
        Assert.That(File.Exists(Path.Combine(fixture.Bundle, "launch", "slurm.sbatch")), Is.True);
    }

    [Test]
    public async Task SubmitTrueWithoutSbatchIsLmoe3433AtTheSubmitKey()
    {
        var stop = await fixture!.RunAsync(fixture.Options("kind: slurm, slurm: { submit: true }"));

        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.SlurmClientMissing), stop?.Message);
        Assert.That(stop!.Key, Does.EndWith("submit"));
    }
}
