using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Yaml;

namespace LlamaMoe.Pipeline.Definition;

/// <summary>A parsed pipeline file, before plugins and options are checked.</summary>
public sealed record PipelineDefinition
{
    /// <summary>The pipeline file's full path.</summary>
    public required string FilePath { get; init; }

    /// <summary>The folder holding the pipeline file; relative paths resolve against it.</summary>
    public string Directory => Path.GetDirectoryName(FilePath)!;

    /// <summary>The <c>name:</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The resolved <c>vars:</c>.</summary>
    public required IReadOnlyDictionary<string, string> Vars { get; init; }

    /// <summary>Resolved full paths of <c>plugins:</c> entries with their locations.</summary>
    public required IReadOnlyList<(string Path, SourceLocation Location)> Plugins { get; init; }

    /// <summary>The store folder (<c>store:</c>, default <c>.llamamoe</c> beside the pipeline), full path.</summary>
    public required string StoreDirectory { get; init; }

    /// <summary>The pipeline seed (<c>seed:</c>, default 0).</summary>
    public int Seed { get; init; }

    /// <summary>The requested device (<c>device:</c>: auto, cpu or cuda; default auto).</summary>
    public string Device { get; init; } = DeviceNames.Auto;

    /// <summary>
    /// CPU threads for tensor work (<c>threads:</c>; null = auto, the runtime's default of one per core). Tiny models
    /// run faster on one thread, since every operator is too small to share and each thread barrier costs more than
    /// the work, worst of all on a busy machine. Does not change stage keys.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>The largest <c>threads:</c> value accepted.</summary>
    public const int MaxThreads = 4096;

    /// <summary>
    /// Reads a <c>threads</c> value (the YAML setting or <c>run --threads</c>): <c>auto</c> gives null (the runtime
    /// default), a whole number from 1 to <see cref="MaxThreads"/> gives itself; anything else is refused.
    /// </summary>
    public static bool TryParseThreads(string text, out int? threads)
    {
        threads = null;
        if (text == "auto")
        {
            return true;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= MaxThreads)
        {
            threads = count;
            return true;
        }

        return false;
    }

    /// <summary>The stages in file order.</summary>
    public required IReadOnlyList<StageDefinition> Stages { get; init; }

    /// <summary>The lock file path, <c>NAME.lock.json</c>... always <c>pipeline.lock.json</c> beside the file's stem.</summary>
    public string LockFilePath => Path.Combine(Directory, Path.GetFileNameWithoutExtension(FilePath) + ".lock.json");

    /// <summary>The readable outputs folder <c>artifacts/NAME</c> beside the pipeline.</summary>
    public string ArtifactsViewDirectory => Path.Combine(Directory, "artifacts", Name);
}

/// <summary>One stage as written.</summary>
/// <param name="Id">The stage id.</param>
/// <param name="Location">Where the stage's key is.</param>
/// <param name="Uses">The plugin name scalar.</param>
/// <param name="Needs">The needed stage id scalars, in order.</param>
/// <param name="With">The options mapping, or null.</param>
public sealed record StageDefinition(string Id, SourceLocation Location, YScalar Uses, IReadOnlyList<YScalar> Needs, YMapping? With);
