using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>Job files pass secrets by reference (issue 15, "Secrets"): a secret value in an executor option never reaches a bundle file.</summary>
[TestFixture]
[NonParallelizable]
public sealed class JobBundleSecretTests
{
    [Test]
    public async Task ASecretValueInAnExecutorOptionIsRefusedBeforeAnyJobFileHoldsIt()
    {
        const string secret = "acct-7f3c9e-job-bundle-secret";
        SecretValues.Register(secret);
        using var fixture = new BundleFixture(residual: false);

        var stop = await fixture.RunAsync(fixture.Options($"kind: slurm, slurm: {{ partition: gpu, account: {secret}, time: \"02:00:00\" }}"));

        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.SecretInJobFile), stop?.ToString());
        Assert.That(stop!.ToString(), Does.Not.Contain(secret));
        Assert.That(Directory.Exists(fixture.Bundles) ? Directory.GetDirectories(fixture.Bundles, "bundle-*") : [], Is.Empty, "no bundle is published");
        var leaks = Directory.EnumerateFiles(fixture.Sandbox.Root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "pipeline.yaml") // the test's own input, where the value stands in for ${secret:NAME}
            .Where(f => new FileInfo(f).Length < (4 << 20) && File.ReadAllText(f).Contains(secret, StringComparison.Ordinal))
            .ToList();
        Assert.That(leaks, Is.Empty, "no file holds the secret");
    }

    [Test]
    public void ATextWithoutARegisteredSecretIsNotFlagged()
    {
        SecretValues.Register("another-4b1d-registered-secret");
        Assert.That(SecretValues.AppearsIn("partition: gpu\naccount: lab\n"), Is.False);
        Assert.That(SecretValues.AppearsIn("token=\"another-4b1d-registered-secret\""), Is.True);
    }
}
