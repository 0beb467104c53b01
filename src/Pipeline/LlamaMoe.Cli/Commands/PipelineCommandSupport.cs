using System.CommandLine;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;

namespace LlamaMoe.Cli.Commands;

/// <summary>
/// The options every pipeline command accepts: <c>--var NAME=VALUE</c> (repeatable), <c>--store DIR</c> and
/// <c>--device auto|cpu|cuda</c>. One instance per command, since System.CommandLine symbols belong to one parent.
/// </summary>
internal sealed class PipelineOptions
{
    /// <summary><c>--var NAME=VALUE</c>, repeatable.</summary>
    public Option<string[]> Vars { get; } = CliOptions.Repeated("--var", "Set a pipeline variable (repeatable); overrides the file's vars.", "NAME=VALUE");

    /// <summary><c>--store DIR</c>.</summary>
    public Option<string> Store { get; } = CliOptions.Path("--store", "Artifact store folder (default: the pipeline's store key, else .llamamoe beside it).", "DIR");

    /// <summary><c>--device auto|cpu|cuda</c>; absent = the pipeline's <c>device:</c>.</summary>
    public Option<string> Device { get; } = CliOptions.Device(null, "Override the pipeline's device (cuda without a CUDA device exits 3).");

    /// <summary>The three options, for a command's symbol list.</summary>
    public IEnumerable<Symbol> Symbols => [Vars, Store, Device];

    /// <summary>Reads the options into load settings; <c>--device cuda</c> without a CUDA device is LMOE1020 (exit 3).</summary>
    public PipelineLoadSettings Settings(ParseResult parse)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assignment in parse.GetValue(Vars) ?? [])
        {
            var eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliUsageException($"--var expects NAME=VALUE, got '{assignment}'");
            }

            vars[assignment[..eq]] = assignment[(eq + 1)..];
        }

        var device = parse.GetValue(Device);
        CudaRequirement.Check(device);
        return new PipelineLoadSettings { VariableOverrides = vars, StoreOverride = parse.GetValue(Store), DeviceOverride = device };
    }
}

/// <summary>What the pipeline commands share: checking the store, loading, and printing diagnostics.</summary>
internal static class PipelineCommandSupport
{
    /// <summary>LMOE0907: the artifact store path is a file, or the store folder cannot be created or written.</summary>
    public const string StoreNotWritableCode = "LMOE0907";

    /// <summary>
    /// Checks, before any stage runs, that the artifact store folder exists or can be created and that a file can be written
    /// in it; throws LMOE0907 naming the folder and the option that chose it otherwise.
    /// </summary>
    /// <param name="store">The store folder.</param>
    /// <param name="key">What chose it: <c>--store</c> or the pipeline's <c>store</c> key.</param>
    public static void EnsureWritableStore(string store, string key)
    {
        if (Path.Exists(store) && !Directory.Exists(store))
        {
            throw new LlamaMoeException(StoreNotWritableCode, "the artifact store path names a file, not a folder", store, key,
                "Point --store (or the pipeline's store key) at a folder; it is created when missing.");
        }

        try
        {
            Directory.CreateDirectory(store);
            var probe = Path.Combine(store, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LlamaMoeException(StoreNotWritableCode, "the artifact store folder cannot be created or written: " + ex.Message, store, key,
                "Point --store (or the pipeline's store key) at a writable folder, or fix the folder's permissions.", inner: ex);
        }
    }

    /// <summary>LMOE0911: <c>clean</c> was pointed at a path that is not a llama-moe artifact store.</summary>
    public const string NotAStoreCode = "LMOE0911";

    private static readonly string[] StoreEntries = ["objects", "keys", "tmp", "scratch", "stamps", "digests.json", "store.lock"];

    /// <summary>
    /// Checks that <paramref name="store"/> is a folder holding only what an artifact store holds (objects, keys, tmp,
    /// scratch, stamps, digests.json, store.lock, their temporary files), so <c>clean</c> never deletes a file or a
    /// folder of the user's that <c>--store</c> or <c>store:</c> happened to name; throws LMOE0911 otherwise.
    /// </summary>
    /// <param name="store">The store folder.</param>
    /// <param name="key">What chose it: <c>--store</c> or the pipeline's <c>store</c> key.</param>
    public static void EnsureIsStore(string store, string key)
    {
        if (!Directory.Exists(store) || new DirectoryInfo(store).LinkTarget is not null)
        {
            throw new LlamaMoeException(NotAStoreCode, "the artifact store path is not a store folder (a file or a link); nothing was deleted", store, key,
                "Check --store (or the pipeline's store key); remove the path yourself if it really is to go.");
        }

        var foreign = Directory.EnumerateFileSystemEntries(store).Select(Path.GetFileName)
            .FirstOrDefault(name => !StoreEntries.Contains(name, StringComparer.Ordinal) && !name!.StartsWith(".write-test-", StringComparison.Ordinal)
                && !name.StartsWith("digests.json.", StringComparison.Ordinal) && !name.StartsWith(".digests.json", StringComparison.Ordinal));
        if (foreign is not null)
        {
            throw new LlamaMoeException(NotAStoreCode, $"the folder holds '{foreign}', which is not part of a llama-moe artifact store; nothing was deleted", store, key,
                "Check --store (or the pipeline's store key); clean deletes only a store's own folder.");
        }
    }

    /// <summary>Loads and validates; prints every diagnostic to stderr and returns null when invalid.</summary>
    public static LoadedPipeline? Load(string path, PipelineLoadSettings settings)
    {
        var result = PipelineLoader.Load(path, settings);
        PrintDiagnostics(result.Diagnostics);
        return result.Pipeline;
    }

    /// <summary>Prints diagnostics in the canonical MSBuild form on stderr.</summary>
    public static void PrintDiagnostics(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Console.Error.WriteLine(TerminalText.Escape(diagnostic.ToString(), keepNewlines: true));
        }
    }

    /// <summary>Prints the non-engine plugin assemblies that were loaded.</summary>
    public static void PrintLoadedAssemblies(LoadedPipeline pipeline, TextWriter writer)
    {
        foreach (var assembly in pipeline.Catalog.Assemblies)
        {
            var name = assembly.GetName();
            writer.WriteLine($"plugins: loaded {name.Name} {name.Version} from {(string.IsNullOrEmpty(assembly.Location) ? "(in memory)" : assembly.Location)}");
        }
    }
}
