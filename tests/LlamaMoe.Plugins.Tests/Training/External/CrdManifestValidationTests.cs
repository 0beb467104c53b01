using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using LlamaMoe.Plugins.Tests.Kubernetes;
using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// The generated <c>launch/trainjob.yaml</c> and <c>launch/pytorchjob.yaml</c> against the real CRDs kept in
/// TestData/k8s-crds (Kubeflow Trainer v2.2.1 TrainJob, training-operator v1.9.4 PyTorchJob): the committed goldens
/// (no shared data needed) and freshly generated bundles for several node, GPU and model options.
/// </summary>
[TestFixture]
public sealed class CrdManifestValidationTests
{
    /// <summary>The placeholder goldens use for a stage key, replaced by a key of the same form (12 lowercase hex digits).</summary>
    private const string Key12 = "0123456789ab";

    [TestCase("mixtral-fsdp2", "trainjob.yaml")]
    [TestCase("mixtral-fsdp2", "pytorchjob.yaml")]
    [TestCase("qwen2-moe-zero3", "trainjob.yaml")]
    [TestCase("qwen2-moe-zero3", "pytorchjob.yaml")]
    public void TheGoldenManifestIsValidAgainstItsCrd(string golden, string manifest)
    {
        var result = CrdFor(manifest).Validate(Golden(golden, manifest));
        Assert.That(result.IsValid, Is.True, result.ToString());
        TestContext.Out.WriteLine($"not evaluated (CEL, left to the API server): {string.Join("; ", result.UncheckedRules)}");
    }

    [Test]
    public void TheTrainJobNameFollowsTheCrdsCelRuleOnMetadataName()
    {
        // The one CEL rule on a field we write; the walker does not run CEL, so it is checked here as the CRD spells it.
        var rules = CustomResourceDefinition.TrainJob.Schema("v1alpha1")["x-kubernetes-validations"]!.AsArray().Select(rule => (string?)rule!["rule"]);
        Assert.That(rules, Is.EquivalentTo(new[] { "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')", "size(self.metadata.name) <= 63" }));
        var name = (string)Golden("mixtral-fsdp2", "trainjob.yaml")["metadata"]!["name"]!;
        Assert.That(name, Does.Match("^[a-z]([-a-z0-9]*[a-z0-9])?$").And.Length.LessThanOrEqualTo(63));
    }

    [Test]
    public void TheCrdsServeTheApiVersionsTheGeneratorWrites()
    {
        Assert.That(CustomResourceDefinition.TrainJob.Versions, Is.EquivalentTo(new[] { "v1alpha1" }));
        Assert.That(CustomResourceDefinition.PyTorchJob.Versions, Is.EquivalentTo(new[] { "v1" }));
        Assert.That((string?)Golden("mixtral-fsdp2", "trainjob.yaml")["apiVersion"], Is.EqualTo("trainer.kubeflow.org/v1alpha1"));
        Assert.That((string?)Golden("mixtral-fsdp2", "pytorchjob.yaml")["apiVersion"], Is.EqualTo("kubeflow.org/v1"));
    }

    /// <summary>Option sets for freshly generated bundles: 1 node × 1 GPU, 2 × 4 with every kubernetes option, 4 × 2 residual ZeRO-3 (the fixture's global batch is 8).</summary>
    private static readonly object[] Bundles =
    [
        new object[] { false, "kind: kubernetes" },
        new object[] { false, "kind: kubernetes, nodes: 2, gpus-per-node: 4, retries: 0, kubernetes: { image: \"registry.local/llamamoe:1\", namespace: ml, runtime: torch-custom, volume-claim: shared-work, mount-path: /mnt/lmoe/ }" },
        new object[] { true, "kind: bundle-only, nodes: 4, gpus-per-node: 2, sharding: zero3, pins: { torch: \">=2.9\", transformers: \">=5.2,<6\", deepspeed: \">=0.17\" }" },
    ];

    [TestCaseSource(nameof(Bundles))]
    [NonParallelizable]
    public async Task EveryGeneratedManifestIsValidAgainstItsCrd(bool residual, string executor)
    {
        using var fixture = new BundleFixture(residual);
        var stop = await fixture.RunAsync(fixture.Options(executor));
        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand), stop?.ToString());
        foreach (var manifest in new[] { "trainjob.yaml", "pytorchjob.yaml" })
        {
            var document = YamlJsonReader.ReadFile(Path.Combine(fixture.Bundle, "launch", manifest));
            var result = CrdFor(manifest).Validate(document);
            Assert.That(result.IsValid, Is.True, $"{manifest}:\n{result}");
        }
    }

    /// <summary>The golden manifest as a JSON tree, with the stage-key placeholder replaced by a real-looking key.</summary>
    internal static JsonObject Golden(string golden, string manifest)
    {
        var text = File.ReadAllText(Path.Combine(TestData(), "JobBundle", golden, "launch", manifest)).Replace("<key12>", Key12, StringComparison.Ordinal);
        return YamlJsonReader.Read(text)!.AsObject();
    }

    internal static CustomResourceDefinition CrdFor(string manifest) =>
        manifest == "trainjob.yaml" ? CustomResourceDefinition.TrainJob : CustomResourceDefinition.PyTorchJob;

    private static string TestData([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "TestData"));
}
