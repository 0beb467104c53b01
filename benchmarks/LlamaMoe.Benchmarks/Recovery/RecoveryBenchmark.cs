using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Store;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace LlamaMoe.Benchmarks.Recovery;

/// <summary>
/// <c>--only recovery</c>: runs <c>pipelines/stories260k-recovery.yaml</c> (every construction variant, converted →
/// stage 1 → stage 2, and stage 2 with distillation, scored on held-out stories) and writes the recovery table as
/// markdown (<c>--out</c>, default <c>recovery.md</c>) and JSON beside it. Stages already in the store are reused; their
/// wall times come from the earlier JSON when their keys match.
/// </summary>
public static class RecoveryBenchmark
{
    /// <summary>The mode's name.</summary>
    public const string Name = "recovery";

    /// <summary>The mode's flags.</summary>
    public const string Usage = "--only recovery [--pipeline pipelines/stories260k-recovery.yaml] [--store DIR] [--threads N] [--out recovery.md] (needs LLAMAMOE_DATA)";

    /// <summary>Table text per row name of the recovery pipeline.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["random"] = "random split + random routers, 4 experts top-2",
        ["gradient"] = "gradient split + k-means routers, 4 experts top-2",
        ["residual"] = "1 residual + 3 top-1, gradient split + k-means routers",
    };

    /// <summary>Whether <paramref name="args"/> ask for this mode.</summary>
    public static bool IsRequested(IReadOnlyList<string> args) =>
        args.Select((a, i) => (a, i)).Any(x => x.a == "--only" && x.i + 1 < args.Count && args[x.i + 1] == Name);

    /// <summary>Runs the mode; returns the exit code (2 for a usage error, 1 for a failed run).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        string? pipelinePath = null, store = null;
        var outFile = "recovery.md";
        var threads = Environment.ProcessorCount;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--only" when i + 1 < args.Count: i++; break;
                case "--no-hugetlb": break;
                case "--pipeline" when i + 1 < args.Count: pipelinePath = args[++i]; break;
                case "--store" when i + 1 < args.Count: store = args[++i]; break;
                case "--out" when i + 1 < args.Count: outFile = args[++i]; break;
                case "--threads" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    threads = n;
                    i++;
                    break;
                default:
                    log.WriteLine($"unknown or incomplete argument '{args[i]}'");
                    log.WriteLine("usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks -- " + Usage);
                    return 2;
            }
        }

        pipelinePath ??= FindDefaultPipeline();
        if (pipelinePath is null || !File.Exists(pipelinePath))
        {
            log.WriteLine($"the recovery pipeline was not found ({pipelinePath ?? "pipelines/stories260k-recovery.yaml above the current folder"}); give --pipeline FILE");
            return 2;
        }

        var loaded = PipelineLoader.Load(pipelinePath, new PipelineLoadSettings { StoreOverride = store });
        foreach (var diagnostic in loaded.Diagnostics)
        {
            log.WriteLine(diagnostic.ToString());
        }

        if (loaded.Pipeline is not { } pipeline)
        {
            return 1;
        }

        var jsonFile = Path.ChangeExtension(Path.GetFullPath(outFile), ".json");
        var earlier = EarlierTimes(jsonFile);
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(threads);
        var watch = Stopwatch.StartNew();
        IReadOnlyList<StageOutcome> outcomes;
        using (var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new LogObserver(log)).BuildServiceProvider())
        {
            outcomes = new PipelineRunner(pipeline, services).RunAsync().GetAwaiter().GetResult();
        }

        var total = watch.Elapsed.TotalSeconds;
        var objects = new ArtifactStore(pipeline.Definition.StoreDirectory);
        var byStage = outcomes.Where(o => o.OutputDigest is not null).ToDictionary(o => o.StageId, StringComparer.Ordinal);
        string Folder(string stage) => objects.ObjectDirectory(byStage[stage].OutputDigest!);
        double? Seconds(string stage) => byStage.TryGetValue(stage, out var o)
            ? o.Status == StageStatus.Ran ? o.Elapsed.TotalSeconds : earlier.TryGetValue((stage, o.Key!), out var s) ? s : null
            : null;
        var evaluation = pipeline.Stages.Last(s => s.Plugin.Name == "evaluate").Id;
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(evaluation), "metrics.json")))!.AsObject();
        var table = RecoveryTableReader.Read(metrics, null,
            stage => byStage.ContainsKey(stage) && File.Exists(Path.Combine(Folder(stage), "training.json"))
                ? JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(stage), "training.json")))!.AsObject()
                : null,
            Seconds, Descriptions, reference: "gradient");
        var c = CultureInfo.InvariantCulture;
        var devices = string.Join("; ", outcomes.Select(o => o.Device).OfType<string>().Distinct(StringComparer.Ordinal));
        var machine = $"{Environment.ProcessorCount} CPU cores, {(devices.Length > 0 ? devices : $"{threads} torch threads, device {pipeline.Definition.Device}")}";
        var header = $"# Recovery table\n\n`{Path.GetFileName(pipelinePath)}`, {DateTime.UtcNow:yyyy-MM-dd}, {machine}; this run {total:F0} s " +
            $"({outcomes.Count(o => o.Status == StageStatus.Ran)} stages ran, {outcomes.Count(o => o.Status == StageStatus.UpToDate)} reused from the store).\n\n";
        var markdown = header + table.ToMarkdown();
        var json = table.ToJson();
        json["pipeline"] = Path.GetFileName(pipelinePath);
        json["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", c);
        json["machine"] = machine;
        json["run_seconds"] = total;
        json["stages"] = new JsonArray(outcomes.Where(o => o.Key is not null)
            .Select(o => (JsonNode)new JsonObject { ["stage"] = o.StageId, ["key"] = o.Key, ["status"] = o.Status.ToString(), ["seconds"] = Seconds(o.StageId) }).ToArray());
        WriteAtomically(outFile, markdown);
        WriteAtomically(jsonFile, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        output.Write(markdown);
        log.WriteLine($"wrote {outFile} and {jsonFile}");
        return 0;
    }

    /// <summary>Stage wall times recorded in an earlier JSON output, by stage and key (empty when there is none).</summary>
    public static IReadOnlyDictionary<(string Stage, string Key), double> EarlierTimes(string jsonFile)
    {
        var times = new Dictionary<(string, string), double>();
        if (!File.Exists(jsonFile))
        {
            return times;
        }

        var stages = JsonNode.Parse(File.ReadAllText(jsonFile))?["stages"] as JsonArray ?? [];
        foreach (var stage in stages.OfType<JsonObject>())
        {
            if ((string?)stage["stage"] is { } id && (string?)stage["key"] is { } key && stage["seconds"] is JsonValue seconds)
            {
                times[(id, key)] = (double)seconds;
            }
        }

        return times;
    }

    private static string? FindDefaultPipeline()
    {
        for (var folder = new DirectoryInfo(Directory.GetCurrentDirectory()); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "pipelines", "stories260k-recovery.yaml");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, text.ReplaceLineEndings("\n"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Logs stage starts, every tenth of a stage's progress, and stage ends (with wall time) to the progress writer.</summary>
    private sealed class LogObserver(TextWriter log) : IPipelineRunObserver
    {
        private readonly Dictionary<string, long> loggedTenths = new(StringComparer.Ordinal);

        public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons) => log.WriteLine($"[{stageId}] start ({plugin})");

        public void StageProgress(string stageId, StepProgressUpdate update)
        {
            var tenth = update.Total > 0 ? update.Step * 10 / update.Total : 0;
            if (tenth > loggedTenths.GetValueOrDefault(stageId))
            {
                loggedTenths[stageId] = tenth;
                log.WriteLine($"[{stageId}] {update.Step}/{update.Total} {update.Message}");
            }
        }

        public void StageLog(string stageId, bool warning, string message)
        {
            if (warning)
            {
                log.WriteLine($"[{stageId}] {message}");
            }
        }

        public void StageFinished(StageOutcome outcome)
        {
            if (outcome.Status != StageStatus.NotRequested)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{outcome.StageId}] {outcome.Status.ToString().ToLowerInvariant()} in {outcome.Elapsed.TotalSeconds:F1} s"));
            }
        }
    }
}
