using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Plugins.Training.External;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

[TestFixture]
[NonParallelizable]
public sealed class JobBundleTests
{
    private const string Slurm = "kind: slurm, nodes: 2, gpus-per-node: 2, slurm: { partition: gpu, account: lab, time: \"02:00:00\", submit: false }";

    private static readonly string[] Generated =
    [
        "BUNDLE.json", "README.md", "constraints.txt", "config/job.json", "config/training_args.json", "launch/local.sh", "launch/slurm.sbatch",
        "launch/trainjob.yaml", "launch/pytorchjob.yaml", "model/config.json", "model/llamamoe.json", "data/manifest.json",
    ];

    [Test]
    public async Task TheMixtralBundleForASlurmExecutorMatchesItsGoldensAndStopsWithTheLaunchCommand()
    {
        using var fixture = new BundleFixture(residual: false);
        var stop = await fixture.RunAsync(fixture.Options(Slurm));
        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand), stop?.ToString());
        Assert.That(stop!.Message, Does.Contain("sbatch --parsable " + fixture.Bundle + "/launch/slurm.sbatch"));
        fixture.AssertGoldens("mixtral-fsdp2", [.. Generated, "config/fsdp2.json"]);
        Assert.That(File.Exists(Path.Combine(fixture.Bundle, "py", "llamamoe_hf", "train.py")), Is.True, "the package is copied");
    }

    [Test]
    public async Task TheResidualVariantBecomesQwen2MoeWithAFrozenZeroGateAndAZero3Config()
    {
        using var fixture = new BundleFixture(residual: true);
        var stop = await fixture.RunAsync(fixture.Options("kind: bundle-only, gpus-per-node: 4, sharding: zero3, pins: { torch: \">=2.9\", transformers: \">=5.2,<6\", deepspeed: \">=0.17\" }"));
        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand), stop?.ToString());
        fixture.AssertGoldens("qwen2-moe-zero3", [.. Generated, "config/ds_zero3.json"]);
        var job = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Bundle, "config", "job.json")))!;
        Assert.That(job["profile"]!.GetValue<string>(), Is.EqualTo("qwen2-moe"));
        Assert.That(job["training"]!["freeze"]![0]!.GetValue<string>(), Does.Contain("shared_expert_gate"));
        using var weights = ShardedCheckpoint.Open(Path.Combine(fixture.Bundle, "model"));
        using var gate = weights.Read("model.layers.0.mlp.shared_expert_gate.weight");
        Assert.That(gate.abs().max().item<float>(), Is.Zero);
    }

    [Test]
    public async Task DataShardsHoldUnshiftedLabelsPerDocumentInTheLocalTrainersOrder()
    {
        using var fixture = new BundleFixture(residual: false);
        await fixture.RunAsync(fixture.Options("kind: bundle-only"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Bundle, "data", "manifest.json")))!;
        Assert.That(manifest["rows"]!.GetValue<int>(), Is.EqualTo(3 * 8), "max-steps × global batch rows");
        using var shard = SafetensorsFile.Open(Path.Combine(fixture.Bundle, "data", "train-00000.safetensors"));
        Assert.That(shard.Tensors.Values.Select(t => t.Dtype), Is.All.EqualTo("I32"));
        using var ids = shard.Read("input_ids");
        using var labels = shard.Read("labels");
        using var positions = shard.Read("position_ids");
        var (id, label, position) = (ids.data<int>().ToArray(), labels.data<int>().ToArray(), positions.data<int>().ToArray());
        var rowLength = (int)ids.shape[1];
        var supervised = 0;
        for (var i = 0; i < id.Length; i++)
        {
            if (position[i] == 0)
            {
                Assert.That(label[i], Is.EqualTo(BundleDataWriter.IgnoreIndex), $"token {i} starts a document: no cross-document target");
            }

            if (label[i] != BundleDataWriter.IgnoreIndex)
            {
                Assert.That(label[i], Is.EqualTo(id[i]), "labels are unshifted");
                supervised++;
            }
        }

        Assert.That(supervised, Is.EqualTo(manifest["supervised_tokens"]!.GetValue<long>()));
        Assert.That(rowLength, Is.EqualTo(48));
        var order = BundleDataWriter.Order(10, 3, 4, 5);
        Assert.That(order.Take(4), Is.EqualTo(new BatchStream(10, 4, 5).Next()), "step 0 reads the local trainer's first batch");
    }

    [Test]
    public async Task AnIntactBundleIsReusedAndAChangedOneIsRefused()
    {
        using var fixture = new BundleFixture(residual: false);
        await fixture.RunAsync(fixture.Options("kind: bundle-only"));
        var bundle = fixture.Bundle;
        var written = File.GetLastWriteTimeUtc(Path.Combine(bundle, "config", "job.json"));
        var again = await fixture.RunAsync(fixture.Options("kind: bundle-only"));
        Assert.That(again?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand));
        Assert.That(fixture.Bundle, Is.EqualTo(bundle));
        Assert.That(File.GetLastWriteTimeUtc(Path.Combine(bundle, "config", "job.json")), Is.EqualTo(written), "not rewritten");
        var readme = Path.Combine(bundle, "README.md");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(readme, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.AppendAllText(readme, "edited\n");
        var refused = await fixture.RunAsync(fixture.Options("kind: bundle-only"));
        Assert.That(refused?.Code, Is.EqualTo(ExternalTrainingErrorCodes.BundleModified));
        Assert.That(refused!.Message, Does.Contain("README.md"));
    }

    [Test]
    public async Task AttentionMoeOrUnsupportedModelsAreRefusedForStockClassesAtTheModelingKey()
    {
        using var fixture = new BundleFixture(residual: true);
        var stop = await fixture.RunAsync(fixture.Options("kind: bundle-only, modeling: llamamoe"));
        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.LaunchByHand), "llamamoe expresses every variant");
        var facts = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Bundle, "model", "llamamoe.json")))!;
        Assert.That(facts["profile"]!.GetValue<string>(), Is.EqualTo("llamamoe"));
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Bundle, "model", "config.json")))!["model_type"]!.GetValue<string>(), Is.EqualTo("llamamoe"));
    }

    [Test]
    public async Task AMissingPythonPackageIsACodedError()
    {
        using var fixture = new BundleFixture(residual: false);
        Environment.SetEnvironmentVariable(PythonPackageLocator.EnvironmentVariable, Path.Combine(fixture.Sandbox.Root, "nowhere"));
        var stop = await fixture.RunAsync(fixture.Options("kind: bundle-only"));
        Assert.That(stop?.Code, Is.EqualTo(ExternalTrainingErrorCodes.PythonPackageMissing));
    }
}
