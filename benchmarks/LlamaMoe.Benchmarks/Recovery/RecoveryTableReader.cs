using System.Globalization;
using System.Text.Json.Nodes;

namespace LlamaMoe.Benchmarks.Recovery;

/// <summary>
/// Builds a <see cref="RecoveryTable"/> from what the recovery pipeline leaves behind: the evaluate stage's
/// <c>metrics.json</c>, each train stage's <c>training.json</c> and the stages' wall times. Rows follow a naming
/// convention: <c>ROW-moe</c> is the converted model; <c>ROW-warm</c> (optional, counted with stage 1), <c>ROW-s1</c> and
/// <c>ROW-s2</c> are its training stages, and <c>ROW-s2kd</c> its stage 2 with distillation, after <c>ROW-s1kd</c> (a stage 1
/// with distillation; optional, counted in the row's cost when present).
/// </summary>
public static class RecoveryTableReader
{
    /// <summary>The suffix of a row's converted-model stage.</summary>
    public const string ConvertedSuffix = "-moe";

    /// <summary>The suffixes of a row's training stages, in the order they run.</summary>
    public static readonly IReadOnlyList<string> TrainingSuffixes = ["-warm", "-s1", "-s2", "-s1kd", "-s2kd"];

    /// <summary>Reads the table.</summary>
    /// <param name="metrics">The evaluate stage's <c>metrics.json</c>.</param>
    /// <param name="baseline">The dense model's stage (the evaluation's baseline when null).</param>
    /// <param name="training">A train stage's <c>training.json</c>, or null when the stage does not exist.</param>
    /// <param name="seconds">A stage's wall time, or null when unknown.</param>
    /// <param name="descriptions">Table text for a row name (the name itself when absent).</param>
    /// <param name="reference">The row whose gap the best cell is also measured against (<see cref="RecoveryTable.Reference"/>).</param>
    public static RecoveryTable Read(JsonObject metrics, string? baseline, Func<string, JsonObject?> training, Func<string, double?> seconds,
        IReadOnlyDictionary<string, string> descriptions, string? reference = null)
    {
        var dense = baseline ?? (string?)metrics["baseline"] ?? throw new InvalidDataException("metrics.json names no baseline and none was given");
        var task = metrics["tasks"]!.AsArray().Select(t => t!.AsObject()).FirstOrDefault(t => (string?)t["metric"] == "mean_nll")
            ?? throw new InvalidDataException("metrics.json holds no mean_nll task");
        var values = task["values"]!.AsObject();
        double? Nll(string stage) => values[stage] is JsonValue v ? Number(v) : null;
        var models = metrics["models"]!.AsArray().Select(m => (string)m!).ToList();
        var rows = new List<RecoveryRow>();
        foreach (var converted in models.Where(m => m.EndsWith(ConvertedSuffix, StringComparison.Ordinal)))
        {
            var name = converted[..^ConvertedSuffix.Length];
            var stages = TrainingSuffixes.Select(s => name + s).Where(s => training(s) is not null).ToList();
            var tokens = stages.Sum(s => Tokens(training(s)!));
            var times = stages.Select(seconds).ToList();
            rows.Add(new RecoveryRow(name, descriptions.GetValueOrDefault(name, name),
                Nll(converted) ?? throw new InvalidDataException($"metrics.json has no finite mean_nll for '{converted}'"),
                Nll(name + "-s1"), Nll(name + "-s2"), Nll(name + "-s2kd"), tokens, times.Any(t => t is null) ? null : times.Sum()));
        }

        return new RecoveryTable((string)task["task"]!, Nll(dense) ?? throw new InvalidDataException($"metrics.json has no mean_nll for the baseline '{dense}'"), rows, reference);
    }

    /// <summary>Tokens a training run processed: steps × batch size × gradient accumulation × sequence length.</summary>
    public static long Tokens(JsonObject training) =>
        (long)(Number(training["steps"]!) * Number(training["batch_size"]!) * (training["grad_accum"] is { } accumulation ? Number(accumulation) : 1) * Number(training["seq_len"]!));

    private static double Number(JsonNode node) => double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
}
