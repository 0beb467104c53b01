using System.Globalization;
using System.Text;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// The compact summary printed after the detailed table: one line per area (MoE against dense, conversion against copy,
/// training FLOP utilisation, evaluation tokens/s, ...) with the ratio (or its range over the area's cases), the target
/// and how many cases meet it. Rows of a benchmark no area claims get a line of their own, so new benchmarks show up.
/// </summary>
public static class BenchmarkSummary
{
    /// <summary>The areas, in print order.</summary>
    public static IReadOnlyList<SummaryArea> Areas { get; } =
    [
        new("MoE vs dense MLP, fwd+bwd (grouped dispatch; dense time / MoE time)", r => r.Benchmark == "moe-mlp" && r.Target is not null),
        new("MoE vs dense MLP, fwd+bwd (per-expert dispatch)", r => r.Benchmark == "moe-mlp" && r.Target is null),
        new("evaluation tok/s, MoE vs dense of equal active FLOPs", r => r.Benchmark == "eval-throughput" && r.Case.Contains("equal active", StringComparison.Ordinal)),
        new("evaluation tok/s, MoE vs the dense model it came from", r => r.Benchmark == "eval-throughput" && r.Case.Contains("dense source", StringComparison.Ordinal)),
        new("conversion vs file copy (MB/s)", r => r.Benchmark == "conversion" && r.Target is null),
        new("conversion peak RSS vs 2x one layer (lower is better)", r => r.Benchmark == "conversion" && r.Target is not null, LowerIsBetter: true),
        new("export peak RSS vs 2x one layer, every format (lower is better)", r => r.Benchmark == "export", LowerIsBetter: true),
        new("training FLOP utilisation, MFU (grouped dispatch)", r => r.Benchmark == "training-mfu" && r.Target is not null),
        new("training FLOP utilisation, MFU (per-expert dispatch)", r => r.Benchmark == "training-mfu" && r.Target is null),
        new("bf16 vs f32 matmul FLOP/s", r => r.Benchmark == "matmul-peak"),
    ];

    /// <summary>The summary lines for <paramref name="rows"/> (areas without rows are left out).</summary>
    public static IReadOnlyList<SummaryLine> Summarize(IReadOnlyList<BenchmarkRow> rows)
    {
        var lines = new List<SummaryLine>();
        var claimed = new HashSet<BenchmarkRow>();
        foreach (var area in Areas)
        {
            var matching = rows.Where(area.Selects).ToList();
            if (matching.Count > 0)
            {
                claimed.UnionWith(matching);
                lines.Add(Line(area.Label, matching, area.LowerIsBetter));
            }
        }

        foreach (var group in rows.Where(r => !claimed.Contains(r)).GroupBy(r => r.Benchmark))
        {
            lines.Add(Line(group.Key, group.ToList(), lowerIsBetter: false));
        }

        return lines;
    }

    /// <summary>The summary as a markdown table.</summary>
    public static string ToMarkdown(IReadOnlyList<SummaryLine> lines)
    {
        var text = new StringBuilder();
        text.AppendLine("| area | ratio | cases | target | meets target |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var line in lines)
        {
            var ratio = line.Minimum == line.Maximum ? F2(line.Minimum) : $"{F2(line.Minimum)}–{F2(line.Maximum)}";
            var target = line.Target is { } t ? (line.LowerIsBetter ? "≤ " : "≥ ") + F2(t) : string.Empty;
            var meets = line.Target is null ? string.Empty : $"{line.Meeting}/{line.Cases}";
            text.AppendLine($"| {line.Area} | {ratio} | {line.Cases} | {target} | {meets} |");
        }

        return text.ToString();
    }

    /// <summary>The detailed rows as a markdown table.</summary>
    public static string DetailMarkdown(IReadOnlyList<BenchmarkRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| benchmark | case | measured | baseline | ratio | target |");
        text.AppendLine("|---|---|---|---|---:|---:|");
        foreach (var row in rows)
        {
            text.AppendLine($"| {row.Benchmark} | {row.Case} | {row.Measured} | {row.Baseline} | {F2(row.Ratio)} | {(row.Target is { } t ? F2(t) : string.Empty)} |");
        }

        return text.ToString();
    }

    private static SummaryLine Line(string area, List<BenchmarkRow> rows, bool lowerIsBetter)
    {
        var target = rows.Select(r => r.Target).FirstOrDefault(t => t is not null);
        var meeting = target is { } t ? rows.Count(r => lowerIsBetter ? r.Ratio <= t : r.Ratio >= t) : 0;
        return new SummaryLine(area, rows.Min(r => r.Ratio), rows.Max(r => r.Ratio), rows.Count, target, lowerIsBetter, meeting);
    }

    private static string F2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}

/// <summary>One area of the summary: a label and which rows belong to it.</summary>
/// <param name="Label">What the ratio compares.</param>
/// <param name="Selects">Whether a row belongs to the area.</param>
/// <param name="LowerIsBetter">Whether the target is an upper bound.</param>
public sealed record SummaryArea(string Label, Func<BenchmarkRow, bool> Selects, bool LowerIsBetter = false);

/// <summary>One line of the summary.</summary>
/// <param name="Area">The area label.</param>
/// <param name="Minimum">The smallest ratio of its rows.</param>
/// <param name="Maximum">The largest ratio of its rows.</param>
/// <param name="Cases">How many rows.</param>
/// <param name="Target">The target ratio, or null.</param>
/// <param name="LowerIsBetter">Whether the target is an upper bound.</param>
/// <param name="Meeting">How many rows meet the target.</param>
public sealed record SummaryLine(string Area, double Minimum, double Maximum, int Cases, double? Target, bool LowerIsBetter, int Meeting);
