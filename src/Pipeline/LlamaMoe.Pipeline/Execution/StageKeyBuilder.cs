using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>Binds a stage's options with its inputs known and computes what its key is made of.</summary>
public static class StageKeyBuilder
{
    /// <summary>Binds and digests; throws <see cref="PipelineDiagnosticsException"/> on problems.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="inputs">The artifacts of the stages run so far.</param>
    /// <param name="digests">File digests of input paths.</param>
    /// <param name="device">The device kind.</param>
    /// <param name="environment">Environment lookup.</param>
    /// <param name="optionLocations">Receives where each bound option value is in the pipeline file, when given.</param>
    public static (StepOptions Options, StageKeyInputs KeyInputs) Build(
        LoadedPipeline pipeline,
        ResolvedStage stage,
        IReadOnlyDictionary<string, ArtifactHandle> inputs,
        FileDigests digests,
        string device,
        Func<string, string?> environment,
        IDictionary<string, SourceLocation>? optionLocations = null)
    {
        var diagnostics = new List<Diagnostic>();
        var pending = inputs.Values.Where(h => h.Digest == PipelinePlanner.PendingDigest).Select(h => Path.TrimEndingDirectorySeparator(h.Directory)).Distinct().ToList();
        var (options, binder) = StageBinding.Bind(pipeline.Definition, stage, environment, (id, name) => Output(inputs, id, name), diagnostics,
            knownAfterUpstreamRuns: path => UnderAny(path, pending));
        if (options is null || diagnostics.Count > 0)
        {
            throw new PipelineDiagnosticsException(diagnostics.Count > 0 ? diagnostics : [stage.Definition.Location.Error(DiagnosticCodes.BadStageReference, $"stage '{stage.Id}' has unresolved values")]);
        }

        foreach (var (key, location) in binder.Locations)
        {
            optionLocations?.Add(key, location);
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, path) in binder.InputPaths)
        {
            // A path inside a pending upstream output (only when planning) has no content yet: it is known after that stage runs.
            files[key] = UnderAny(path, pending) ? PipelinePlanner.PendingDigest : digests.OfPath(path);
        }

        // Secret values never reach the lock file: the options show them redacted, and a digest of them keeps the key
        // sensitive to a changed secret.
        var canonical = SecretValues.RedactJson(Options.OptionsCanonicalizer.ToCanonicalJson(options, pipeline.Definition.Directory), out var secrets);
        var keyInputs = new StageKeyInputs
        {
            Plugin = stage.Plugin.Name,
            Version = stage.Plugin.Version,
            Options = canonical,
            Secrets = secrets.Count == 0 ? null : SecretValues.DigestOf(secrets),
            Artifacts = new SortedDictionary<string, string>(stage.Definition.Needs.ToDictionary(n => n.Value, n => inputs[n.Value].Digest), StringComparer.Ordinal),
            Files = files,
            Device = device,
            Seed = pipeline.Definition.Seed,
        };
        return (options, keyInputs);
    }

    private static bool UnderAny(string path, IReadOnlyList<string> directories) =>
        directories.Any(d => path.Equals(d, StringComparison.Ordinal) || path.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    private static string? Output(IReadOnlyDictionary<string, ArtifactHandle> inputs, string stageId, string name)
    {
        if (!inputs.TryGetValue(stageId, out var handle))
        {
            return null;
        }

        return name switch
        {
            "path" => handle.Directory,
            "digest" => handle.Digest,
            _ => handle.Outputs.GetValueOrDefault(name),
        };
    }
}
