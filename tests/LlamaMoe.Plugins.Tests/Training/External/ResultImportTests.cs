using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>Refused imports from crafted final/ folders (a copy of the bundle's model, then damaged).</summary>
[TestFixture]
[NonParallelizable]
public sealed class ResultImportTests
{
    private static BundleFixture? fixture;

    [OneTimeSetUp]
    public async Task WriteBundle()
    {
        fixture = new BundleFixture(residual: false);
        await fixture.RunAsync(fixture.Options("kind: bundle-only"));
    }

    [OneTimeTearDown]
    public void Cleanup() => fixture?.Dispose();

    [Test]
    public void AnIntactResultPassesTheDigestAndLayoutChecks()
    {
        var run = CraftRun("intact");
        Assert.DoesNotThrow(() => ExternalResultImporter.CheckDigests(run, Path.Combine(run, "final")));
        Assert.DoesNotThrow(() => ExternalResultImporter.CheckLayout(Path.Combine(fixture!.Bundle, "model"), Path.Combine(run, "final")));
    }

    [Test]
    public void AFinalFileThatDiffersFromDoneJsonIsRefused()
    {
        var run = CraftRun("digest");
        File.AppendAllText(Path.Combine(run, "final", "config.json"), " ");
        var error = Assert.Throws<LlamaMoeException>(() => ExternalResultImporter.CheckDigests(run, Path.Combine(run, "final")));
        Assert.That(error!.Code, Is.EqualTo(ExternalTrainingErrorCodes.ResultDigest));
        Assert.That(error.Message, Does.Contain("config.json"));
    }

    [Test]
    public void AMissingDoneJsonIsRefused()
    {
        var run = CraftRun("no-done");
        File.Delete(Path.Combine(run, ExternalResultImporter.DoneName));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ExternalResultImporter.CheckDigests(run, Path.Combine(run, "final")))!.Code, Is.EqualTo(ExternalTrainingErrorCodes.ResultDigest));
    }

    [Test]
    public void NaNWeightsAreRefused()
    {
        var run = CraftRun("nan");
        var final = Path.Combine(run, "final");
        var file = Directory.GetFiles(final, "*.safetensors").Single();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var weights = ShardedCheckpoint.Open(final))
        {
            tensors.AddRange(weights.Names.Select(n => new KeyValuePair<string, Tensor>(n, n == "model.norm.weight" ? full(weights.Info(n).Shape, float.NaN) : weights.Read(n))));
        }

        SafetensorsWriter.Write(file, tensors);
        var error = Assert.Throws<LlamaMoeException>(() => ExternalResultImporter.CheckLayout(Path.Combine(fixture!.Bundle, "model"), final));
        Assert.That(error!.Code, Is.EqualTo(ExternalTrainingErrorCodes.ResultLayout));
        Assert.That(error.Message, Does.Contain("model.norm.weight").And.Contain("NaN"));
    }

    private static string CraftRun(string name)
    {
        var run = Path.Combine(fixture!.Sandbox.Root, "runs-crafted", name);
        var final = Path.Combine(run, "final");
        Directory.CreateDirectory(final);
        foreach (var file in Directory.GetFiles(Path.Combine(fixture.Bundle, "model")))
        {
            var target = Path.Combine(final, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var files = new System.Text.Json.Nodes.JsonObject();
        foreach (var (path, digest) in BundleFiles.Digests(final, skip: null))
        {
            files[path] = digest;
        }

        File.WriteAllText(Path.Combine(run, ExternalResultImporter.DoneName), new System.Text.Json.Nodes.JsonObject { ["status"] = "done", ["final_step"] = 3, ["files"] = files }.ToJsonString());
        return run;
    }
}
