using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Imports an external result, the only way it becomes an artifact: DONE.json and the sha256 of every final/ file
/// (LMOE3430); config, tensor names, shapes and dtypes against the bundle's model/ and finiteness (LMOE3431); folds undone
/// (powers of two exactly, others kept folded with scale 1); our CPU forward on the golden probe against the trainer's
/// probe-logits (LMOE3432); then the native model, metrics.jsonl and external.json (provenance) go into the stage's output.
/// </summary>
public static class ExternalResultImporter
{
    /// <summary>The completion marker.</summary>
    public const string DoneName = "DONE.json";

    /// <summary>Relative tolerance of the probe comparison (bf16 training precision), as a fraction of the largest |logit|.</summary>
    public const double ProbeTolerance = 2e-2;

    private static readonly string[] IgnoredConfigKeys = ["torch_dtype", "dtype", "transformers_version", "use_cache", "_name_or_path", "output_router_logits", "router_aux_loss_coef"];

    /// <summary>Checks the run folder's result and writes the artifact into the step's output folder.</summary>
    public static void Import(IStepContext context, BundleJob job, string runDirectory)
    {
        context.Progress.Report(0, 0, "importing the external result");
        var final = Path.Combine(runDirectory, "final");
        var done = CheckDigests(runDirectory, final);
        CheckLayout(Path.Combine(job.BundleDirectory, "model"), final);
        using var model = LoadUnfolded(final, job, context.Inputs.Count > 0 ? ModelArtifacts.SingleModelInput(context).Directory : null);
        CheckProbe(model, job.BundleDirectory, final);
        ModelArtifacts.Save(model, context.OutputDirectory, Path.Combine(job.BundleDirectory, "model"));
        var (steps, lastLoss) = WriteMetrics(Path.Combine(runDirectory, "progress.jsonl"), Path.Combine(context.OutputDirectory, "metrics.jsonl"));
        var provenance = new JsonObject
        {
            ["executor"] = BundleConfigWriter.Kind(job.Executor.Kind),
            ["stage_key"] = job.StageKey,
            ["profile"] = job.Model.Profile,
            ["world_size"] = job.Executor.WorldSize,
            ["final_step"] = done["final_step"]?.DeepClone(),
            ["restarts"] = CountEvents(runDirectory, "resume"),
            ["metrics"] = TryParse(Path.Combine(final, "metrics.json")),
        };
        AtomicFile.WriteAllText(Path.Combine(context.OutputDirectory, "external.json"), BundleFiles.Json(provenance));
        context.Outputs["steps"] = steps.ToString(CultureInfo.InvariantCulture);
        if (lastLoss is { } loss)
        {
            context.Outputs["final-loss"] = loss.ToString("F6", CultureInfo.InvariantCulture);
        }

        context.Log.Info($"imported {runDirectory}: {steps} steps, profile {job.Model.Profile}");
    }

    /// <summary>Reads DONE.json and checks every final/ file against it (LMOE3430).</summary>
    public static JsonObject CheckDigests(string runDirectory, string final)
    {
        var path = Path.Combine(runDirectory, DoneName);
        var done = TryParse(path) as JsonObject;
        if (done is null || done["status"]?.GetValue<string>() != "done" || done["files"] is not JsonObject listed)
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ResultDigest, "DONE.json is missing, unreadable, or not {status: \"done\", files: {...}}", path,
                advice: "Nothing was imported; rerun the job.");
        }

        var actual = Directory.Exists(final) ? BundleFiles.Digests(final, skip: null) : new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (file, digest) in listed)
        {
            if (!actual.TryGetValue(file, out var found) || !string.Equals(found, digest?.GetValue<string>(), StringComparison.OrdinalIgnoreCase))
            {
                throw new LlamaMoeException(ExternalTrainingErrorCodes.ResultDigest,
                    found is null ? $"final/{file} is listed in DONE.json but missing" : $"the sha256 of final/{file} differs from DONE.json", Path.Combine(final, file),
                    advice: "The result was changed or copied incompletely; nothing was imported. Rerun the job or copy final/ again.");
            }
        }

        var extra = actual.Keys.FirstOrDefault(f => !listed.ContainsKey(f));
        if (extra is not null)
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ResultDigest, $"final/{extra} is not listed in DONE.json", Path.Combine(final, extra), advice: "Nothing was imported; rerun the job.");
        }

        return done;
    }

    /// <summary>Checks config keys, tensor names, shapes and dtypes against the bundle's model/, and that every tensor is finite (LMOE3431).</summary>
    public static void CheckLayout(string expected, string final)
    {
        var expectedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(expected, ModelDirectory.ConfigFileName)))!.AsObject();
        var finalConfig = TryParse(Path.Combine(final, ModelDirectory.ConfigFileName)) as JsonObject
            ?? throw Layout(Path.Combine(final, ModelDirectory.ConfigFileName), "final/config.json is missing or unreadable");
        foreach (var (key, value) in expectedConfig)
        {
            if (!IgnoredConfigKeys.Contains(key) && !JsonNode.DeepEquals(value, finalConfig[key]))
            {
                throw Layout(Path.Combine(final, ModelDirectory.ConfigFileName), $"config key '{key}' is {finalConfig[key]?.ToJsonString() ?? "absent"}, expected {value?.ToJsonString() ?? "null"}");
            }
        }

        using var want = ShardedCheckpoint.Open(expected);
        using var got = ShardedCheckpoint.Open(final);
        foreach (var name in want.Names)
        {
            if (!got.Contains(name))
            {
                throw Layout(final, $"tensor '{name}' is missing");
            }

            var (a, b) = (want.Info(name), got.Info(name));
            if (!a.Shape.SequenceEqual(b.Shape) || b.Dtype is not ("F32" or "BF16" or "F16"))
            {
                throw Layout(final, $"tensor '{name}' is {b.Dtype} [{string.Join(", ", b.Shape)}], expected a float tensor of shape [{string.Join(", ", a.Shape)}]");
            }

            using var scope = NewDisposeScope();
            if (!got.Read(name).isfinite().all().item<bool>())
            {
                throw Layout(final, $"tensor '{name}' holds NaN or Inf");
            }
        }

        var extra = got.Names.FirstOrDefault(n => !want.Contains(n));
        if (extra is not null)
        {
            throw Layout(final, $"tensor '{extra}' is not in the expected layout");
        }
    }

    /// <summary>Our CPU forward of the imported model on the golden probe against the trainer's probe-logits.safetensors (LMOE3432).</summary>
    public static void CheckProbe(LlamaForCausalLM model, string bundle, string final)
    {
        var result = TryParse(Path.Combine(final, "probe-result.json"));
        if (result?["passed"]?.GetValue<bool>() == false)
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ProbeMismatch,
                $"the trainer's initial probe failed (max |diff| {result["max_abs_diff"]?.ToJsonString() ?? "?"}): the Python model classes did not reproduce our logits before training",
                Path.Combine(final, "probe-result.json"), advice: "Check the transformers version against constraints.txt; nothing was imported.");
        }

        var logitsPath = Path.Combine(final, "probe-logits.safetensors");
        if (!File.Exists(logitsPath))
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ProbeMismatch, "final/probe-logits.safetensors is missing", logitsPath, advice: "Rerun the job with a trainer that writes the probe.");
        }

        using var scope = NewDisposeScope();
        using var inputs = SafetensorsFile.Open(Path.Combine(bundle, "golden", "probe-inputs.safetensors"));
        using var reported = SafetensorsFile.Open(logitsPath);
        var ids = inputs.Read("input_ids").to_type(ScalarType.Int64); // (B, T)
        var theirs = reported.Read("logits").to_type(ScalarType.Float32); // (B, T, V)
        using var noGrad = no_grad();
        var ours = model.forward(ids).to_type(ScalarType.Float32); // (B, T, V)
        if (!ours.shape.SequenceEqual(theirs.shape))
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ProbeMismatch, $"probe logits have shape [{string.Join(", ", theirs.shape)}], ours [{string.Join(", ", ours.shape)}]", logitsPath);
        }

        var difference = ours.sub(theirs).abs().max().item<float>();
        var scale = Math.Max(1.0, theirs.abs().max().item<float>());
        if (!(difference <= ProbeTolerance * scale))
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.ProbeMismatch,
                $"our forward of the imported model differs from the trainer's probe logits by {difference:G4} (allowed {ProbeTolerance * scale:G4})", logitsPath,
                advice: "The key mapping, layout or folds do not match what the trainer ran; nothing was imported.");
        }
    }

    private static LlamaForCausalLM LoadUnfolded(string final, BundleJob job, string? source)
    {
        if (job.Model.Profile == "llama")
        {
            return ModelArtifacts.Load(final, CPU);
        }

        using var checkpoint = ModelExporter.ReadMoe(final);
        if (source is null || job.Model.Profile == "llamamoe" || ModelExporter.IsDense(source))
        {
            return checkpoint.ToModel(CPU, ScalarType.Float32);
        }

        var original = ModelExporter.ReadMoeConfig(source);
        var exact = original.ScaleFactors.Select(IsPowerOfTwo).ToArray();
        var tensors = checkpoint.Tensors.Select(p =>
        {
            var layer = DenseTensorNames.LayerOf(p.Key);
            var index = layer >= 0 && original.IsMoeLayer(layer) ? original.IndexOfMoeLayer(layer) : -1;
            var folded = index >= 0 && exact[index] && p.Key.Contains(".experts.", StringComparison.Ordinal) && p.Key.EndsWith(".w2.weight", StringComparison.Ordinal);
            return new KeyValuePair<string, TorchSharp.torch.Tensor>(p.Key, folded ? p.Value.div(original.ScaleFactors[index]) : p.Value.clone());
        }).ToList();
        var config = checkpoint.Config with { ScaleFactors = original.ScaleFactors.Select((s, i) => exact[i] ? s : 1.0).ToArray() };
        using var unfolded = new MoeCheckpoint(config, tensors);
        return unfolded.ToModel(CPU, ScalarType.Float32);
    }

    private static bool IsPowerOfTwo(double scale) => scale > 0 && Math.Abs(Math.Log2(scale) - Math.Round(Math.Log2(scale))) == 0;

    private static (int Steps, double? LastLoss) WriteMetrics(string progress, string destination)
    {
        var lines = new List<string>();
        double? last = null;
        var steps = 0;
        if (File.Exists(progress))
        {
            foreach (var line in File.ReadLines(progress).Where(l => l.Trim().Length > 0))
            {
                if (TryParseLine(line) is not JsonObject record || record["step"] is null)
                {
                    continue;
                }

                var metrics = new JsonObject { ["step"] = record["step"]!.DeepClone() };
                foreach (var (from, to) in new[] { ("loss", "lm_loss"), ("lr", "lr"), ("grad_norm", "grad_norm"), ("tokens_seen", "tokens"), ("epoch", "epoch") })
                {
                    if (record[from] is { } value)
                    {
                        metrics[to] = value.DeepClone();
                    }
                }

                steps = Math.Max(steps, record["step"]!.GetValue<int>());
                last = record["loss"]?.GetValue<double>() ?? last;
                lines.Add(metrics.ToJsonString());
            }
        }

        AtomicFile.WriteAllText(destination, string.Concat(lines.Select(l => l + "\n")));
        return (steps, last);
    }

    private static int CountEvents(string runDirectory, string name)
    {
        var path = Path.Combine(runDirectory, "events.jsonl");
        return File.Exists(path) ? File.ReadLines(path).Count(l => TryParseLine(l)?["event"]?.GetValue<string>() == name) : 0;
    }

    private static JsonNode? TryParse(string path)
    {
        try
        {
            return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? TryParseLine(string line)
    {
        try
        {
            return JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static LlamaMoeException Layout(string path, string problem) =>
        new(ExternalTrainingErrorCodes.ResultLayout, $"the external result does not match the bundle's model: {problem}", path, advice: "Nothing was imported; check the trainer's transformers version and log.");
}
