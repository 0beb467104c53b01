using System.Globalization;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>What a bundle is built from.</summary>
/// <param name="ModelDirectory">The input model artifact folder.</param>
/// <param name="ModelDigest">Its content digest.</param>
/// <param name="Options">The stage's options (with an external executor).</param>
/// <param name="Rows">The packed training rows.</param>
/// <param name="MaxSteps">Optimizer steps.</param>
/// <param name="Seed">The data-order seed.</param>
/// <param name="PadId">The padding id.</param>
/// <param name="TokenizerDigest">sha256 of the tokenizer.</param>
/// <param name="BundleRoot">The folder bundles are published into.</param>
/// <param name="OutputRoot">The output URI.</param>
/// <param name="PythonPackage">The llamamoe_hf folder to copy.</param>
public sealed record BundleRequest(string ModelDirectory, string ModelDigest, TrainOptions Options, IReadOnlyList<PackedRow> Rows, int MaxSteps, long Seed, int PadId,
    string TokenizerDigest, string BundleRoot, string OutputRoot, string PythonPackage);

/// <summary>
/// Builds a job bundle in a temp folder beside its destination and publishes it by rename as <c>bundle-&lt;key12&gt;</c>;
/// an intact bundle of the same key is reused, a changed one refused (LMOE3405). The stage key hashes the model, data and
/// Python package digests and the training section (launch-only settings excluded); the folder name also covers the
/// launch settings, so a bundle never changes once written.
/// </summary>
public static class JobBundleWriter
{
    /// <summary>Probe rows and tokens.</summary>
    public const int ProbeRows = 2;

    /// <summary>Probe tokens per row (at most).</summary>
    public const int ProbeTokens = 16;

    /// <summary>Writes (or reuses) the bundle; returns its facts.</summary>
    public static BundleJob Write(BundleRequest request)
    {
        var executor = request.Options.Executor!;
        Directory.CreateDirectory(request.BundleRoot);
        var temp = Path.Combine(request.BundleRoot, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var model = BundleModelWriter.Write(request.ModelDirectory, Path.Combine(temp, "model"), executor.Modeling, request.ModelDigest);
            var globalBatch = ExecutorOptionChecks.GlobalBatch(request.Options);
            var data = BundleDataWriter.Write(Path.Combine(temp, "data"), request.Rows, request.MaxSteps, globalBatch, request.Seed, request.PadId, request.TokenizerDigest);
            PythonPackageLocator.CopyTo(request.PythonPackage, Path.Combine(temp, "py", "llamamoe_hf"));
            var draft = new BundleJob(new string('0', 64), request.Options, executor, model, data, request.MaxSteps, request.Seed, request.BundleRoot, request.OutputRoot);
            var stageKey = StageKey(temp, draft);
            var bundleKey = BundleFiles.Sha256Text(stageKey + "\n" + LaunchSettings(draft));
            var final = Path.Combine(request.BundleRoot, "bundle-" + bundleKey[..12]);
            var job = draft with { StageKey = stageKey, BundleDirectory = final };
            BundleConfigWriter.Write(temp, job);
            BundleLaunchWriter.Write(temp, job);
            WriteProbe(temp, request);
            BundleFiles.WriteText(Path.Combine(temp, "README.md"), BundleReadme.Text(job));
            BundleFiles.WriteManifest(temp, stageKey, executor.Pins);
            if (Directory.Exists(final))
            {
                BundleFiles.Verify(final);
                Directory.Delete(temp, recursive: true);
                return job;
            }

            MakeReadOnly(temp);
            Directory.Move(temp, final);
            return job;
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    /// <summary>The stage key: generator, model/data/py digests, profile and the job's training and executor identity (no topology).</summary>
    public static string StageKey(string bundle, BundleJob draft)
    {
        var job = BundleConfigWriter.JobJson(draft);
        var training = job["training"]!.AsObject();
        training.Remove("micro_batch");
        var identity = new JsonObject
        {
            ["generator"] = BundleFiles.Generator,
            ["model"] = TreeDigest(Path.Combine(bundle, "model")),
            ["data"] = TreeDigest(Path.Combine(bundle, "data")),
            ["py"] = TreeDigest(Path.Combine(bundle, "py")),
            ["profile"] = draft.Model.Profile,
            ["training"] = training.DeepClone(),
            ["sharding"] = ExecutorOptionChecks.Name(draft.Executor.Sharding),
            ["pins"] = BundleConfigWriter.Constraints(draft.Executor.Pins),
        };
        return BundleFiles.Sha256Text(identity.ToJsonString());
    }

    private static string TreeDigest(string folder) => BundleFiles.TreeDigest(BundleFiles.Digests(folder, skip: null));

    private static string LaunchSettings(BundleJob job)
    {
        var e = job.Executor;
        return string.Join("\n", CultureInfo.InvariantCulture, BundleConfigWriter.Kind(e.Kind), e.Nodes, e.GpusPerNode, job.MicroBatch, e.Retries, job.BundleDirectory, job.OutputDirectory,
            e.Slurm.Partition, e.Slurm.Account, e.Slurm.Time, e.Slurm.Qos, e.Slurm.Constraint, e.Kubernetes.Image, e.Kubernetes.Namespace, e.Kubernetes.Runtime,
            e.Kubernetes.VolumeClaim, e.Kubernetes.MountPath);
    }

    private static void WriteProbe(string bundle, BundleRequest request)
    {
        var order = BundleDataWriter.Order(request.Rows.Count, 1, Math.Min(ProbeRows, request.Rows.Count), request.Seed);
        var length = Math.Min(ProbeTokens, request.Rows[0].Length);
        var ids = order.SelectMany(i => request.Rows[i].Ids.Take(length)).ToArray();
        Directory.CreateDirectory(Path.Combine(bundle, "golden"));
        using var scope = NewDisposeScope();
        var input = tensor(ids, [order.Count, length], ScalarType.Int32); // (B, T)
        SafetensorsWriter.Write(Path.Combine(bundle, "golden", "probe-inputs.safetensors"), [new("input_ids", input)]);
        using var model = ModelArtifacts.Load(request.ModelDirectory, CPU);
        model.eval();
        using var noGrad = no_grad();
        var logits = model.forward(input.to_type(ScalarType.Int64)).to_type(ScalarType.Float32).contiguous(); // (B, T, V)
        SafetensorsWriter.Write(Path.Combine(bundle, "golden", "probe-expected.safetensors"), [new("logits", logits)]);
    }

    private static void MakeReadOnly(string root)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var executable = (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0;
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead
                | (executable ? UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : 0));
        }
    }
}
