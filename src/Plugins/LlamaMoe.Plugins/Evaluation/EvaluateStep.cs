using System.Globalization;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>
/// <c>evaluate</c>: scores every needed model (dense or MoE, in <c>needs</c> order) on the tasks and writes a side-by-side
/// <c>report.md</c> and <c>metrics.json</c>, plus <c>models/&lt;stage&gt;/</c> per-model reports with expert-usage heatmaps.
/// Each value is also an output named <c>&lt;stage&gt;-&lt;task&gt;-&lt;metric&gt;</c>.
/// </summary>
[PipelineStep("evaluate", typeof(EvaluateOptions), Description = "Evaluate models (perplexity, MMLU, GSM8K, HumanEval, MBPP, expert usage) side by side.", Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.MoeModel, ArtifactKinds.Dataset, ArtifactKinds.Files], Produces = ArtifactKinds.Metrics)]
public sealed class EvaluateStep : PipelineStep<EvaluateOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, EvaluateOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var models = ModelArtifacts.ModelInputs(context);
        if (models.Count == 0)
        {
            throw new LlamaMoeException(PluginErrorCodes.ModelInput, $"stage '{context.StageId}' needs at least one model stage", key: "needs",
                advice: "List the dense-model or moe-model stages to evaluate under 'needs'.");
        }

        if (options.Baseline is { } baseline && models.All(m => m.StageId != baseline))
        {
            throw new LlamaMoeException(PluginErrorCodes.Baseline, $"the baseline '{baseline}' is not one of the needed model stages ({string.Join(", ", models.Select(m => m.StageId))})",
                key: "baseline", advice: "Add the baseline stage to 'needs'.");
        }

        var device = ModelArtifacts.DeviceOf(context);
        var results = new List<(string Stage, IReadOnlyList<TaskScore> Scores)>();
        var usages = new Dictionary<string, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>>>();
        var total = models.Count * options.Tasks.Count;
        var done = 0;
        foreach (var input in models)
        {
            var tokenizer = TokenizerLoader.Load(input.Directory);
            using var model = ModelArtifacts.Load(input.Directory, device);
            var evaluator = new TaskEvaluator(model, tokenizer, options.MaxBatchTokens, cancellationToken, options.GenerationBatchSize);
            var scores = new List<TaskScore>();
            var usage = new Dictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>>();
            foreach (var task in options.Tasks)
            {
                context.Progress.Report(done, total, $"{input.StageId}: {task.Name ?? EvaluateOptions.Label(task.Task)}");
                var outcome = evaluator.Run(task);
                scores.AddRange(outcome.Scores);
                foreach (var (kind, layers) in outcome.Usage)
                {
                    usage[kind] = layers;
                }

                context.Progress.Report(++done, total, $"{input.StageId}: {task.Name ?? EvaluateOptions.Label(task.Task)} done");
            }

            results.Add((input.StageId, scores));
            usages[input.StageId] = usage;
        }

        WriteModelReports(context.OutputDirectory, results, usages, options.Baseline);
        ComparisonReport.Write(context.OutputDirectory, results, options.Baseline);
        foreach (var (stage, scores) in results)
        {
            foreach (var bad in scores.Where(s => EvaluationReport.NonFiniteName(s.Value) is not null))
            {
                context.Log.Warning($"{EvaluationReport.NonFiniteMetricCode}: the {bad.Metric} of '{stage}' on {bad.Task} is {EvaluationReport.NonFiniteName(bad.Value)}; metrics.json holds null "
                    + "and names it under non_finite. Check the model's weights and dtype.");
            }
        }

        RecordOutputs(context, results);
        return Task.CompletedTask;
    }

    private static void WriteModelReports(string output, List<(string Stage, IReadOnlyList<TaskScore> Scores)> results,
        Dictionary<string, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>>> usages, string? baseline)
    {
        var baseScores = baseline is null ? null : results.First(r => r.Stage == baseline).Scores;
        foreach (var (stage, scores) in results)
        {
            var folder = Path.Combine(output, "models", stage);
            Directory.CreateDirectory(folder);
            var plots = new List<(string Caption, string RelativePath)>();
            foreach (var (kind, layers) in usages[stage])
            {
                var file = $"expert-usage-{kind.ToString().ToLowerInvariant()}.png";
                ExpertUsageHeatmap.Write(layers, Path.Combine(folder, file), ExpertUsageHeatmap.Title(stage, kind));
                plots.Add(($"{ExpertUsageHeatmap.RouterName(kind)} expert usage per layer and expert", file));
            }

            var compared = scores.Select(s => baseScores is null || stage == baseline
                ? s
                : s with { Baseline = baseScores.FirstOrDefault(b => b.Task == s.Task && b.Metric == s.Metric)?.Value }).ToList();
            EvaluationReport.Write(folder, stage, compared, usages[stage], plots);
        }
    }

    private static void RecordOutputs(IStepContext context, List<(string Stage, IReadOnlyList<TaskScore> Scores)> results)
    {
        foreach (var (stage, scores) in results)
        {
            foreach (var score in scores.Where(s => s.Value is { } v && double.IsFinite(v)))
            {
                var name = $"{stage}-{score.Task}-{score.Metric}".Replace('@', '-').Replace('_', '-');
                context.Outputs[name] = score.Value!.Value.ToString("G6", CultureInfo.InvariantCulture);
            }
        }
    }
}
