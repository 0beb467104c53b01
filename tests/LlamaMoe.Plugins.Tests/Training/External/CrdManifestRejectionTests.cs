using System.Text.Json.Nodes;
using LlamaMoe.Plugins.Tests.Kubernetes;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// A valid generated manifest broken on purpose is refused by the real CRD, with the path of the offending field: so a
/// pass of <see cref="CrdManifestValidationTests"/> means something.
/// </summary>
[TestFixture]
public sealed class CrdManifestRejectionTests
{
    private const string Container = "spec.pytorchReplicaSpecs.Master.template.spec.containers[0]";

    [Test]
    public void AnIntegerWrittenAsAStringIsRefused()
    {
        var job = TrainJob();
        job["spec"]!["trainer"]!["numNodes"] = "2";
        AssertRefused("trainjob.yaml", job, "spec.trainer.numNodes", "expected integer, found string \"2\"");
    }

    [Test]
    public void AStringWrittenAsAnIntegerIsRefused()
    {
        var job = PyTorchJob();
        job["spec"]!["pytorchReplicaSpecs"]!["Master"]!["restartPolicy"] = 1;
        AssertRefused("pytorchjob.yaml", job, "spec.pytorchReplicaSpecs.Master.restartPolicy", "expected string, found integer 1");
    }

    [Test]
    public void AMisspeltFieldUnderAClosedObjectIsRefusedNotPruned()
    {
        var job = TrainJob();
        job["spec"]!["trainer"]!.AsObject()["numProcsPerNode"] = 4;
        AssertRefused("trainjob.yaml", job, "spec.trainer.numProcsPerNode", "unknown field");
    }

    [Test]
    public void AMisspeltFieldDeepInThePodTemplateIsRefused()
    {
        var job = PyTorchJob();
        job["spec"]!["pytorchReplicaSpecs"]!["Master"]!["template"]!["spec"]!["containers"]![0]!.AsObject()["volumeMount"] = new JsonArray();
        AssertRefused("pytorchjob.yaml", job, Container + ".volumeMount", "unknown field");
    }

    [Test]
    public void AMissingRequiredFieldIsRefused()
    {
        var trainJob = TrainJob();
        trainJob["spec"]!.AsObject().Remove("runtimeRef");
        AssertRefused("trainjob.yaml", trainJob, "spec.runtimeRef", "required field is missing");
        var pytorchJob = PyTorchJob();
        pytorchJob["spec"]!["pytorchReplicaSpecs"]!["Master"]!["template"]!["spec"]!["containers"]![0]!.AsObject().Remove("name");
        AssertRefused("pytorchjob.yaml", pytorchJob, Container + ".name", "required field is missing");
    }

    [Test]
    public void AGpuLimitThatIsNeitherAQuantityNorAnIntegerIsRefused()
    {
        var job = TrainJob();
        job["spec"]!["trainer"]!["resourcesPerNode"]!["limits"]!["nvidia.com/gpu"] = "four";
        AssertRefused("trainjob.yaml", job, "spec.trainer.resourcesPerNode.limits[\"nvidia.com/gpu\"]", "does not match the pattern");
        job["spec"]!["trainer"]!["resourcesPerNode"]!["limits"]!["nvidia.com/gpu"] = true;
        AssertRefused("trainjob.yaml", job, "spec.trainer.resourcesPerNode.limits[\"nvidia.com/gpu\"]", "expected an integer or a string");
    }

    [Test]
    public void TwoEnvironmentVariablesWithTheSameNameAreRefused()
    {
        var job = TrainJob();
        var env = job["spec"]!["trainer"]!["env"]!.AsArray();
        env.Add(env[0]!.DeepClone());
        AssertRefused("trainjob.yaml", job, "spec.trainer.env[2]", "duplicate list-map key");
    }

    [Test]
    public void AnotherApiVersionOrKindIsRefused()
    {
        var job = TrainJob();
        job["apiVersion"] = "trainer.kubeflow.org/v2alpha1";
        AssertRefused("trainjob.yaml", job, "apiVersion", "is not a served version of this CRD (trainer.kubeflow.org/v1alpha1)");
        var pytorchJob = PyTorchJob();
        pytorchJob["kind"] = "TFJob";
        AssertRefused("pytorchjob.yaml", pytorchJob, "kind", "is not this CRD's kind \"PyTorchJob\"");
    }

    [Test]
    public void AMetadataNameThatIsNotADnsNameIsRefused()
    {
        var job = TrainJob();
        job["metadata"]!["name"] = "LMOE_stage";
        AssertRefused("trainjob.yaml", job, "metadata.name", "does not match the pattern");
        job["metadata"]!["name"] = 7;
        AssertRefused("trainjob.yaml", job, "metadata.name", "expected string, found integer 7");
    }

    private static JsonObject TrainJob() => CrdManifestValidationTests.Golden("mixtral-fsdp2", "trainjob.yaml");

    private static JsonObject PyTorchJob() => CrdManifestValidationTests.Golden("mixtral-fsdp2", "pytorchjob.yaml");

    private static void AssertRefused(string manifest, JsonObject document, string path, string message)
    {
        var result = CrdManifestValidationTests.CrdFor(manifest).Validate(document);
        Assert.That(result.Violations, Has.Some.Matches<SchemaViolation>(v => v.Path == path && v.Message.Contains(message, StringComparison.Ordinal)),
            $"expected '{path}: …{message}…'; found:\n{result}");
    }
}
