using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>An up-to-date <c>run</c> decides that nothing is stale without loading libtorch; a stale stage loads it first.</summary>
public sealed class UpToDateRunTests
{
    [Test]
    public void AnUpToDateRunNeverLoadsLibtorchButAStaleStageDoes()
    {
        using var dir = new TempDirectory("cli-lazy-torch");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, "name: p\nstages:\n  data: { uses: data/synthetic, with: { people: 2, train-examples: 4, eval-examples: 2 } }\n");
        Assert.That(CliProcess.Run("run", pipeline, "--plain").ExitCode, Is.EqualTo(0));

        // A folder that passes the cheap check (the three libraries are present) but cannot be loaded.
        var fake = dir.Combine("fake-libtorch");
        Directory.CreateDirectory(fake);
        foreach (var library in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            File.WriteAllText(Path.Combine(fake, library), "not a shared library");
        }

        var environment = new Dictionary<string, string?> { ["LLAMAMOE_LIBTORCH"] = fake };
        var upToDate = CliProcess.RunWith(environment, "run", pipeline, "--plain", "--threads", "2");
        Assert.That(upToDate.ExitCode, Is.EqualTo(0), "an up-to-date run loaded libtorch: " + upToDate.Stderr);
        Assert.That(upToDate.Stdout, Does.Contain("0 stage(s) ran, 1 up to date"));

        var stale = CliProcess.RunWith(environment, "run", pipeline, "--plain", "--force", "data");
        Assert.That(stale.ExitCode, Is.EqualTo(ExitCodes.RuntimeUnavailable), "the forced stage must load libtorch first: " + stale.Stderr + stale.Stdout);
        Assert.That(stale.Stderr, Does.Contain("LMOE100"));
    }
}
