using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Modeling.Training;

/// <summary>metrics.jsonl: one JSON object per optimizer step, appended and flushed as the run goes.</summary>
public sealed class MetricsLog
{
    /// <summary>Creates the log at <paramref name="path"/>.</summary>
    public MetricsLog(string path) => Path = path;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Drops lines of steps after <paramref name="step"/> (written by an interrupted run after its last checkpoint); atomic.</summary>
    public void TruncateAfter(int step)
    {
        if (!File.Exists(Path))
        {
            return;
        }

        var kept = File.ReadLines(Path).Where(l => StepOf(l) is { } s && s <= step).ToList();
        var temp = Path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllLines(temp, kept);
        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>Appends one step.</summary>
    public void Append(StepMetrics metrics)
    {
        var routing = new JsonArray(metrics.Routing.Select(r => (JsonNode)new JsonObject
        {
            ["layer"] = r.Layer,
            ["load"] = new JsonArray(r.LoadFractions.Select(f => (JsonNode)JsonValue.Create(Math.Round(f, 6))).ToArray()),
            ["max_load"] = r.MaxLoadFraction,
            ["load_cv"] = r.LoadCoefficientOfVariation,
            ["entropy"] = r.TokenEntropy,
        }).ToArray());
        var line = new JsonObject
        {
            ["step"] = metrics.Step,
            ["loss"] = metrics.Loss,
            ["lm_loss"] = metrics.LmLoss,
            ["balance_loss"] = metrics.BalanceLoss,
            ["z_loss"] = metrics.ZLoss,
            ["lr"] = metrics.LearningRate,
            ["grad_norm"] = metrics.GradNorm,
            ["tokens"] = metrics.Tokens,
            ["tokens_per_second"] = metrics.TokensPerSecond,
            ["elapsed_seconds"] = metrics.ElapsedSeconds,
            ["epoch"] = metrics.Epoch,
            ["routing"] = routing,
        };
        if (metrics.DistillLoss is { } distillLoss)
        {
            line["kd_loss"] = distillLoss;
        }

        File.AppendAllText(Path, line.ToJsonString() + "\n");
    }

    /// <summary>Reads (step, lm_loss) of every line, for the loss curve.</summary>
    public IReadOnlyList<(int Step, double Loss)> ReadLosses() =>
        File.Exists(Path)
            ? File.ReadLines(Path)
                .Select(l => JsonNode.Parse(l))
                .Where(n => n is not null)
                .Select(n => ((int)n!["step"]!, (double)n["lm_loss"]!))
                .ToList()
            : [];

    private static int? StepOf(string line)
    {
        try
        {
            return JsonNode.Parse(line)?["step"]?.GetValue<int>();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
