using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Benchmarks.Recovery;

/// <summary>One construction variant's measurements: held-out mean NLL after each phase, and what its training cost.</summary>
/// <param name="Name">The row's stage prefix in the pipeline (for example <c>residual</c>).</param>
/// <param name="Description">What the construction is, for the table.</param>
/// <param name="Converted">Mean NLL of the converted (untrained) MoE.</param>
/// <param name="Stage1">After stage 1; null when the pipeline has no such stage.</param>
/// <param name="Stage2">After stage 2 (from stage 1).</param>
/// <param name="Stage2Distilled">After stage 2 with distillation from the dense model (from stage 1).</param>
/// <param name="TrainingTokens">Tokens that every training stage of the row processed (steps × batch × accumulation × sequence length).</param>
/// <param name="TrainingSeconds">Wall time of the row's training stages; null when some stage's time is unknown (restored from the store with no earlier record).</param>
public sealed record RecoveryRow(string Name, string Description, double Converted, double? Stage1, double? Stage2, double? Stage2Distilled, long TrainingTokens, double? TrainingSeconds);

/// <summary>
/// The recovery table of issue 14: per construction variant, the held-out mean NLL of the converted model and of each
/// training phase, and the share of the conversion gap each recovers, <c>(converted − x) / (converted − dense)</c>
/// (1 = back to the dense model, 0 = no better than converted, negative = worse).
/// </summary>
/// <param name="HeldOut">The held-out task's name (for example <c>stories-601-700</c>).</param>
/// <param name="Dense">The dense model's mean NLL on it.</param>
/// <param name="Rows">The variants, in pipeline order.</param>
/// <param name="Reference">A row whose conversion gap the best cell is also measured against (for example the 4×2 gradient row, the gap issue 14 starts from); null for none.</param>
public sealed record RecoveryTable(string HeldOut, double Dense, IReadOnlyList<RecoveryRow> Rows, string? Reference = null)
{
    /// <summary>The share of the gap between <paramref name="converted"/> and <paramref name="dense"/> that <paramref name="trained"/> closes; NaN when there is no gap.</summary>
    public static double GapRecovered(double dense, double converted, double trained)
    {
        var gap = converted - dense;
        return gap == 0 || !double.IsFinite(gap) ? double.NaN : (converted - trained) / gap;
    }

    /// <summary>The trained cell with the lowest held-out NLL (the closest to the dense model), with its share of its own row's gap; null when nothing was trained.</summary>
    public (RecoveryRow Row, string Column, double Nll, double Recovered)? Best() =>
        Rows.SelectMany(r => Columns(r).Where(c => c.Value is { } v && double.IsFinite(v)).Select(c => (Row: r, c.Column, Nll: c.Value!.Value)))
            .OrderBy(x => x.Nll)
            .Select(x => ((RecoveryRow, string, double, double)?)(x.Row, x.Column, x.Nll, GapRecovered(Dense, x.Row.Converted, x.Nll)))
            .FirstOrDefault();

    /// <summary>The markdown table: one row per variant, NLL cells with the recovered share in parentheses.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(c, $"Held-out mean NLL on {HeldOut} (dense {Dense:F4}); in parentheses the share of the row's conversion gap recovered, (converted − x) / (converted − dense).\n\n");
        text.Append("| construction | converted | stage 1 | stage 2 | stage 2 + distillation | training tokens | training wall time |\n");
        text.Append("|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var row in Rows)
        {
            text.Append(c, $"| {row.Description} | {row.Converted:F4} |");
            foreach (var (_, value) in Columns(row))
            {
                text.Append(' ').Append(value is { } v ? Cell(v, GapRecovered(Dense, row.Converted, v)) : "–").Append(" |");
            }

            text.Append(c, $" {row.TrainingTokens:N0} | {(row.TrainingSeconds is { } s ? s.ToString("F0", c) + " s" : "–")} |\n");
        }

        if (Best() is { } best)
        {
            text.Append(c, $"\nBest (lowest held-out NLL): {best.Row.Description}, {best.Column}: {best.Nll:F4}, {best.Recovered:F3} of its own gap");
            if (Rows.FirstOrDefault(r => r.Name == Reference) is { } reference && reference != best.Row)
            {
                text.Append(c, $", {GapRecovered(Dense, reference.Converted, best.Nll):F3} of the gap of {reference.Description} ({reference.Converted:F4})");
            }

            text.Append(".\n");
        }

        return text.ToString();
    }

    /// <summary>The table as JSON (null for values that are absent or not finite).</summary>
    public JsonObject ToJson() => new()
    {
        ["held_out"] = HeldOut,
        ["dense"] = Dense,
        ["rows"] = new JsonArray(Rows.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Name,
            ["description"] = r.Description,
            ["converted"] = r.Converted,
            ["stage1"] = Phase(r, r.Stage1),
            ["stage2"] = Phase(r, r.Stage2),
            ["stage2_distilled"] = Phase(r, r.Stage2Distilled),
            ["training_tokens"] = r.TrainingTokens,
            ["training_seconds"] = r.TrainingSeconds,
        }).ToArray()),
    };

    /// <summary>The JSON text, indented.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static IEnumerable<(string Column, double? Value)> Columns(RecoveryRow row) =>
        [("stage 1", row.Stage1), ("stage 2", row.Stage2), ("stage 2 + distillation", row.Stage2Distilled)];

    private static string Cell(double nll, double recovered) =>
        string.Create(CultureInfo.InvariantCulture, $"{nll:F4} ({(double.IsFinite(recovered) ? recovered.ToString("F3", CultureInfo.InvariantCulture) : "–")})");

    private JsonNode? Phase(RecoveryRow row, double? nll) => nll is { } v
        ? new JsonObject { ["mean_nll"] = v, ["gap_recovered"] = GapRecovered(Dense, row.Converted, v) is var g && double.IsFinite(g) ? g : null }
        : null;
}
