using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Training;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>One task's score.</summary>
/// <param name="Task">The task (<c>mmlu</c>, <c>gsm8k</c>, <c>humaneval</c>, ...).</param>
/// <param name="Metric">The metric (<c>acc</c>, <c>acc_norm</c>, <c>exact_match</c>, <c>pass@1</c>, <c>perplexity</c>).</param>
/// <param name="Value">The score, or null when the task was skipped.</param>
/// <param name="Count">How many items were scored.</param>
/// <param name="Baseline">The dense baseline's score on the same task, when given.</param>
/// <param name="Note">Why it was skipped, or a remark.</param>
public sealed record TaskScore(string Task, string Metric, double? Value, int Count, double? Baseline = null, string? Note = null);

/// <summary>Writes <c>metrics.json</c> and <c>report.md</c> of an evaluation (atomically), with per-layer expert usage and plot links.</summary>
public static class EvaluationReport
{
    /// <summary>Writes both files into <paramref name="folder"/>.</summary>
    /// <param name="folder">The output folder.</param>
    /// <param name="title">The report title (model name).</param>
    /// <param name="scores">The task scores.</param>
    /// <param name="expertUsage">Per router kind, the per-layer usage (may be empty).</param>
    /// <param name="plots">Plot captions and their paths relative to <paramref name="folder"/>.</param>
    public static void Write(string folder, string title, IReadOnlyList<TaskScore> scores, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> expertUsage, IReadOnlyList<(string Caption, string RelativePath)> plots)
    {
        Directory.CreateDirectory(folder);
        WriteAtomically(Path.Combine(folder, "metrics.json"), Json(title, scores, expertUsage));
        WriteAtomically(Path.Combine(folder, "report.md"), Markdown(title, scores, expertUsage, plots));
    }

    /// <summary>
    /// The task scores of a <c>metrics.json</c> written by <see cref="Write"/>, or null when the file is missing or unreadable.
    /// A non-finite score (stored as null with <c>non_finite</c>) comes back as that value.
    /// </summary>
    public static IReadOnlyList<TaskScore>? TryReadScores(string metricsJson)
    {
        try
        {
            if (!File.Exists(metricsJson) || JsonNode.Parse(File.ReadAllText(metricsJson))?["tasks"] is not JsonArray tasks)
            {
                return null;
            }

            return tasks.OfType<JsonObject>().Select(t => new TaskScore(
                t["task"]?.GetValue<string>() ?? "?",
                t["metric"]?.GetValue<string>() ?? "?",
                t["value"]?.GetValue<double>() ?? (t["non_finite"]?.GetValue<string>() is { } bad ? double.Parse(bad, CultureInfo.InvariantCulture) : null),
                t["count"]?.GetValue<int>() ?? 0,
                t["baseline"]?.GetValue<double>(),
                t["note"]?.GetValue<string>())).ToList();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// A number for a JSON document: the value when finite, null for NaN or an infinity (which JSON cannot hold and the
    /// serializer refuses); pair it with <see cref="NonFiniteName"/> to flag what was dropped.
    /// </summary>
    public static double? FiniteOrNull(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>LMOE0908: an evaluation produced a NaN or infinite metric (<c>eval</c> fails with it, the <c>evaluate</c> step warns with it).</summary>
    public const string NonFiniteMetricCode = "LMOE0908";

    /// <summary><c>"NaN"</c>, <c>"Infinity"</c> or <c>"-Infinity"</c> for a non-finite value; null for a finite value or null.</summary>
    public static string? NonFiniteName(double? value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "Infinity",
        double.NegativeInfinity => "-Infinity",
        _ => null,
    };

    private static string Json(string title, IReadOnlyList<TaskScore> scores, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> usage)
    {
        var root = new JsonObject
        {
            ["model"] = title,
            ["tasks"] = new JsonArray(scores.Select(s => (JsonNode)new JsonObject
            {
                ["task"] = s.Task, ["metric"] = s.Metric, ["value"] = FiniteOrNull(s.Value), ["count"] = s.Count, ["baseline"] = FiniteOrNull(s.Baseline), ["note"] = s.Note,
                ["non_finite"] = NonFiniteName(s.Value) is { } bad ? bad : null,
            }).ToArray()),
            ["expert_usage"] = new JsonObject(usage.Select(kv => new KeyValuePair<string, JsonNode?>(
                kv.Key.ToString().ToLowerInvariant(),
                new JsonArray(kv.Value.Select(l => (JsonNode)new JsonObject
                {
                    ["layer"] = l.Layer,
                    ["load"] = new JsonArray(l.LoadFractions.Select(f => (JsonNode?)FiniteOrNull(f)).ToArray()),
                    ["max_load"] = FiniteOrNull(l.MaxLoadFraction),
                    ["load_cv"] = FiniteOrNull(l.LoadCoefficientOfVariation),
                    ["token_entropy"] = FiniteOrNull(l.TokenEntropy),
                    ["tokens"] = l.Tokens,
                }).ToArray())))),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string Markdown(string title, IReadOnlyList<TaskScore> scores, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> usage, IReadOnlyList<(string Caption, string RelativePath)> plots)
    {
        static string F(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "–";
        var md = new StringBuilder($"# Evaluation: {title}\n\n| task | metric | score | dense baseline | Δ | n | note |\n|---|---|---:|---:|---:|---:|---|\n");
        foreach (var s in scores)
        {
            var delta = s.Value is { } v && s.Baseline is { } b ? F(v - b) : "–";
            md.Append(CultureInfo.InvariantCulture, $"| {s.Task} | {s.Metric} | {F(s.Value)} | {F(s.Baseline)} | {delta} | {s.Count} | {s.Note ?? string.Empty} |\n");
        }

        foreach (var (kind, layers) in usage)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n## Expert usage ({kind.ToString().ToLowerInvariant()} routers)\n\n| layer | max load | load CV | routing entropy (nats) | loads |\n|---:|---:|---:|---:|---|\n");
            foreach (var l in layers)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {l.Layer} | {F(l.MaxLoadFraction)} | {F(l.LoadCoefficientOfVariation)} | {F(l.TokenEntropy)} | {string.Join(' ', l.LoadFractions.Select(f => f.ToString("F3", CultureInfo.InvariantCulture)))} |\n");
            }
        }

        if (plots.Count > 0)
        {
            md.Append("\n## Plots\n\n");
            foreach (var (caption, relative) in plots)
            {
                md.Append(CultureInfo.InvariantCulture, $"![{caption}]({relative})\n\n");
            }
        }

        return md.ToString();
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(temp, content, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
