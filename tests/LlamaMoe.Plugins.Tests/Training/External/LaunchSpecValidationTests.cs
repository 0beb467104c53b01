using System.Diagnostics;
using System.Text.Json.Nodes;
using LlamaMoe.Plugins.Tests.Kubernetes;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// The launch specs of a 2-node × 4-GPU Kubernetes bundle: what the TrainJob and PyTorchJob ask for, and <c>shellcheck</c> on
/// the generated scripts. Their validity against the real CRDs is <see cref="CrdManifestValidationTests"/>.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LaunchSpecValidationTests
{
    private static BundleFixture? fixture;

    [OneTimeSetUp]
    public async Task WriteBundle()
    {
        fixture = new BundleFixture(residual: false);
        var stop = await fixture.RunAsync(fixture.Options("kind: kubernetes, nodes: 2, gpus-per-node: 4, kubernetes: { image: \"registry.local/llamamoe:1\", namespace: ml }"));
        Assert.That(stop?.Code, Is.EqualTo(LlamaMoe.Plugins.Training.External.ExternalTrainingErrorCodes.LaunchByHand), stop?.ToString());
    }

    [OneTimeTearDown]
    public void Cleanup() => fixture?.Dispose();

    [Test]
    public void TheTrainJobAsksForTheWorldSizeAndRunsTheEntryPoint()
    {
        var document = ReadYaml(Path.Combine(fixture!.Bundle, "launch", "trainjob.yaml"));
        var trainer = document["spec"]!["trainer"]!;
        Assert.That(trainer["numNodes"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(trainer["numProcPerNode"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(trainer["command"]!.AsArray().Select(n => n!.GetValue<string>()), Does.Contain("llamamoe_hf.train"));
        Assert.That(document["metadata"]!["namespace"]!.GetValue<string>(), Is.EqualTo("ml"));
        var pytorch = ReadYaml(Path.Combine(fixture.Bundle, "launch", "pytorchjob.yaml"));
        Assert.That(pytorch["spec"]!["pytorchReplicaSpecs"]!["Worker"]!["replicas"]!.GetValue<int>(), Is.EqualTo(1), "one master and one worker");
    }

    [TestCase("local.sh")]
    [TestCase("slurm.sbatch")]
    public void TheGeneratedShellPassesShellcheck(string script)
    {
        if (!File.Exists("/usr/bin/shellcheck"))
        {
            Assert.Ignore("shellcheck is not installed (apt-get install shellcheck)");
        }

        using var process = Process.Start(new ProcessStartInfo("/usr/bin/shellcheck", ["--shell=bash", "--severity=style", Path.Combine(fixture!.Bundle, "launch", script)])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, output);
    }

    private static JsonObject ReadYaml(string path) => YamlJsonReader.ReadFile(path)!.AsObject();
}
