using System.Globalization;
using System.Text.Json;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Plugins.Evaluation;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe eval</c>: one evaluation task on a model directory (the tasks of the <c>evaluate</c> step).</summary>
public sealed class EvalCommand : ICliCommand
{
    private static readonly Dictionary<string, EvaluationTaskKind> Tasks = new(StringComparer.Ordinal)
    {
        ["perplexity"] = EvaluationTaskKind.Perplexity,
        ["mmlu"] = EvaluationTaskKind.Mmlu,
        ["gsm8k"] = EvaluationTaskKind.Gsm8k,
        ["humaneval"] = EvaluationTaskKind.Humaneval,
        ["mbpp"] = EvaluationTaskKind.Mbpp,
        ["expert-usage"] = EvaluationTaskKind.ExpertUsage,
    };

    /// <inheritdoc />
    public string Name => "eval";

    /// <inheritdoc />
    public string Summary => "Evaluate a model: perplexity, mmlu, gsm8k, humaneval, mbpp or expert-usage.";

    /// <inheritdoc />
    public string Usage => "llama-moe eval <model-dir> --task perplexity|mmlu|gsm8k|humaneval|mbpp|expert-usage --data PATH [--format stories|text] " +
        "[--first N] [--count N] [--max-length N] [--shots K] [--shots-data FILE] [--max-new-tokens N] [--generation-batch-size N] [--json] " + ModelPlacement.Usage;

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var directory = arguments.ModelDirectory(0);
        var taskName = arguments.Option("task") ?? "perplexity";
        var data = arguments.Option("data") ?? throw new CliUsageException("missing --data PATH");
        var format = arguments.Option("format") ?? "stories";
        var task = new EvaluationTaskOptions
        {
            Task = Tasks.TryGetValue(taskName, out var kind) ? kind : throw new CliUsageException($"unknown task '{taskName}' (supported: {string.Join(", ", Tasks.Keys)})"),
            Data = data,
            Name = taskName,
            Format = format switch
            {
                "stories" => TextLayout.Stories,
                "text" => TextLayout.Text,
                _ => throw new CliUsageException($"unknown format '{format}' (supported: stories, text)"),
            },
            First = arguments.Int("first", 1, minimum: 1),
            Count = arguments.Option("count") is null ? null : arguments.Int("count", 1, minimum: 1),
            MaxLength = arguments.Int("max-length", 512, minimum: 1),
            Shots = arguments.Int("shots", 0, minimum: 0),
            ShotsData = arguments.Option("shots-data"),
            MaxNewTokens = arguments.Int("max-new-tokens", 128, minimum: 1),
        };
        var generationBatchSize = arguments.Int("generation-batch-size", EvaluateOptions.DefaultGenerationBatchSize);
        var json = arguments.Flag("json");
        var placement = ModelPlacement.From(arguments);
        arguments.ThrowOnUnused();
        if (generationBatchSize < 1)
        {
            throw new CliUsageException($"--generation-batch-size expects a positive number, got {generationBatchSize}");
        }

        if (!File.Exists(data) && !Directory.Exists(data))
        {
            throw new LlamaMoeException("LMOE3803", "the evaluation data file does not exist", data);
        }

        var tokenizer = TokenizerLoader.Load(directory);
        using var model = LlamaMoe.Modeling.MoeModel.CausalLanguageModelLoader.Load(directory, placement.Device, placement.Dtype);
        var outcome = new TaskEvaluator(model, tokenizer, 8192, cancellationToken, generationBatchSize).Run(task);
        Print(taskName, format, outcome.Scores, json);
        if (outcome.Scores.FirstOrDefault(s => EvaluationReport.NonFiniteName(s.Value) is not null) is { } bad)
        {
            throw new LlamaMoeException(NonFiniteMetricCode, $"the {bad.Metric} of task '{taskName}' is {EvaluationReport.NonFiniteName(bad.Value)}; the model's outputs are not finite numbers",
                directory, bad.Metric, "Check the model's weights (a NaN or infinity in a tensor, or a dtype that overflows such as float16); the figures above are not valid.");
        }

        return ExitCodes.Success;
    }

    /// <summary>LMOE0908: an evaluation produced a NaN or infinite metric (printed, written as JSON null, and a failure).</summary>
    public const string NonFiniteMetricCode = "LMOE0908";

    private static void Print(string task, string format, IReadOnlyList<TaskScore> scores, bool json)
    {
        var c = CultureInfo.InvariantCulture;
        if (task == "perplexity")
        {
            var nll = scores.First(s => s.Metric == "mean_nll");
            var tokens = (long)scores.First(s => s.Metric == "tokens").Value!.Value;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["task"] = task,
                    ["format"] = format,
                    ["sequences"] = nll.Count,
                    ["tokens"] = tokens,
                    ["mean_nll"] = EvaluationReport.FiniteOrNull(nll.Value),
                    ["perplexity"] = EvaluationReport.FiniteOrNull(scores.First(s => s.Metric == "perplexity").Value),
                    ["non_finite"] = scores.Where(s => EvaluationReport.NonFiniteName(s.Value) is not null).Select(s => s.Metric).ToList(),
                }));
                return;
            }

            Console.WriteLine($"sequences   {nll.Count}");
            Console.WriteLine($"tokens      {tokens.ToString("N0", c)}");
            Console.WriteLine($"mean NLL    {nll.Value!.Value.ToString("F6", c)} nats/token");
            Console.WriteLine($"perplexity  {scores.First(s => s.Metric == "perplexity").Value!.Value.ToString("F4", c)}");
            return;
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["task"] = task,
                ["scores"] = scores.Select(s => new Dictionary<string, object?> { ["metric"] = s.Metric, ["value"] = EvaluationReport.FiniteOrNull(s.Value), ["count"] = s.Count, ["note"] = s.Note, ["non_finite"] = EvaluationReport.NonFiniteName(s.Value) }).ToList(),
            }));
            return;
        }

        foreach (var score in scores)
        {
            Console.WriteLine($"{score.Metric,-12} {(score.Value is { } v ? v.ToString("F4", c) : "–")}  ({score.Count} items){(score.Note is null ? string.Empty : "  " + score.Note)}");
        }
    }
}
