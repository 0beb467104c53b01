using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Evaluation;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>
/// Writes the evaluate step's top-level <c>metrics.json</c> and <c>report.md</c>: every task metric for every model side by side.
/// A NaN or infinite value (which JSON cannot hold) is written as <c>null</c> and named under <c>non_finite</c>.
/// </summary>
internal static class ComparisonReport
{
    public static void Write(string folder, IReadOnlyList<(string Stage, IReadOnlyList<TaskScore> Scores)> models, string? baseline)
    {
        var rows = models.SelectMany(m => m.Scores.Select(s => (s.Task, s.Metric))).Distinct().ToList();
        var json = new JsonObject
        {
            ["baseline"] = baseline,
            ["models"] = new JsonArray(models.Select(m => (JsonNode)JsonValue.Create(m.Stage)).ToArray()),
            ["tasks"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["task"] = r.Task,
                ["metric"] = r.Metric,
                ["values"] = new JsonObject(models.Select(m => new KeyValuePair<string, JsonNode?>(m.Stage, EvaluationReport.FiniteOrNull(Find(m.Scores, r)?.Value) is { } v ? JsonValue.Create(v) : null))),
                ["non_finite"] = new JsonObject(models.Where(m => EvaluationReport.NonFiniteName(Find(m.Scores, r)?.Value) is not null)
                    .Select(m => new KeyValuePair<string, JsonNode?>(m.Stage, EvaluationReport.NonFiniteName(Find(m.Scores, r)?.Value)))),
                ["counts"] = new JsonObject(models.Select(m => new KeyValuePair<string, JsonNode?>(m.Stage, Find(m.Scores, r)?.Count))),
                ["notes"] = new JsonObject(models.Where(m => Find(m.Scores, r)?.Note is not null).Select(m => new KeyValuePair<string, JsonNode?>(m.Stage, Find(m.Scores, r)!.Note))),
            }).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "metrics.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), Markdown(models, rows, baseline));
    }

    private static TaskScore? Find(IReadOnlyList<TaskScore> scores, (string Task, string Metric) row) =>
        scores.FirstOrDefault(s => s.Task == row.Task && s.Metric == row.Metric);

    private static string Markdown(IReadOnlyList<(string Stage, IReadOnlyList<TaskScore> Scores)> models, List<(string Task, string Metric)> rows, string? baseline)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append("# Evaluation\n\n");
        if (baseline is not null)
        {
            text.Append(c, $"Baseline: `{baseline}` (differences are model − baseline).\n\n");
        }

        text.Append("| task | metric | ").Append(string.Join(" | ", models.Select(m => m.Stage))).Append(" |\n");
        text.Append("| --- | --- |").Append(string.Concat(models.Select(_ => " ---: |"))).Append('\n');
        var notes = new List<string>();
        foreach (var row in rows)
        {
            var baseValue = baseline is null ? null : Find(models.First(m => m.Stage == baseline).Scores, row)?.Value;
            text.Append(c, $"| {row.Task} | {row.Metric} |");
            foreach (var (stage, scores) in models)
            {
                var score = Find(scores, row);
                var cell = score?.Value is { } v ? v.ToString("F4", c) : "–";
                if (score?.Value is { } value && baseValue is { } b && stage != baseline)
                {
                    cell += $" ({value - b:+0.0000;-0.0000})";
                }

                if (score?.Note is { } note)
                {
                    notes.Add($"- `{stage}` {row.Task}: {note}");
                }

                text.Append(' ').Append(cell).Append(" |");
            }

            text.Append('\n');
        }

        if (notes.Count > 0)
        {
            text.Append("\nNotes:\n\n").Append(string.Join("\n", notes.Distinct())).Append('\n');
        }

        text.Append("\nPer-model reports, expert-usage tables and heatmaps: `models/<stage>/report.md`.\n");
        return text.ToString();
    }
}
