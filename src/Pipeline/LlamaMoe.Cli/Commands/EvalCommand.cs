using System.CommandLine;
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

    private readonly Argument<string> modelDirectory = CliOptions.Argument("model-dir", "The model directory (config.json, weights, tokenizer.model).");
    private readonly Option<string> taskOption = CliOptions.Choice("--task", "The evaluation task.", "perplexity", [.. Tasks.Keys]);
    private readonly Option<string> dataPath = CliOptions.Path("--data", "The evaluation data (a file, or the MMLU folder).", "PATH", required: true);
    private readonly Option<string> formatOption = CliOptions.Choice("--format", "How perplexity text is split into sequences.", "stories", "stories", "text");
    private readonly Option<int> first = CliOptions.Int("--first", "The first item to evaluate (1-based).", 1, minimum: 1);
    private readonly Option<int?> count = CliOptions.OptionalInt("--count", "How many items to evaluate (default: all).", minimum: 1);
    private readonly Option<int> maxLength = CliOptions.Int("--max-length", "Tokens per sequence at most.", 512, minimum: 1);
    private readonly Option<int> shots = CliOptions.Int("--shots", "Few-shot examples per prompt.", 0, minimum: 0, helpName: "K");
    private readonly Option<string> shotsData = CliOptions.Path("--shots-data", "Where the few-shot examples come from.", "FILE");
    private readonly Option<int> maxNewTokens = CliOptions.Int("--max-new-tokens", "Tokens to generate per answer at most.", 128, minimum: 1);
    private readonly Option<int> generationBatchSize = CliOptions.Int("--generation-batch-size", "Prompts generated at a time (gsm8k, humaneval, mbpp).", EvaluateOptions.DefaultGenerationBatchSize, minimum: 1);
    private readonly Option<bool> asJson = CliOptions.Flag("--json", "Print the scores as JSON.");
    private readonly Option<string> device = ModelPlacement.DeviceOption();
    private readonly Option<string> dtype = ModelPlacement.DtypeOption();

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols =>
        [modelDirectory, taskOption, dataPath, formatOption, first, count, maxLength, shots, shotsData, maxNewTokens, generationBatchSize, asJson, device, dtype];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var directory = CommandLinePaths.ModelDirectory(parse.GetRequiredValue(modelDirectory));
        var taskName = parse.GetRequiredValue(taskOption);
        var data = parse.GetRequiredValue(dataPath);
        var format = parse.GetRequiredValue(formatOption);
        var task = new EvaluationTaskOptions
        {
            Task = Tasks[taskName],
            Data = data,
            Name = taskName,
            Format = format == "text" ? TextLayout.Text : TextLayout.Stories,
            First = parse.GetValue(first),
            Count = parse.GetValue(count),
            MaxLength = parse.GetValue(maxLength),
            Shots = parse.GetValue(shots),
            ShotsData = parse.GetValue(shotsData),
            MaxNewTokens = parse.GetValue(maxNewTokens),
        };
        var json = parse.GetValue(asJson);
        var placement = ModelPlacement.From(parse.GetValue(device), parse.GetValue(dtype));
        var batchSize = parse.GetValue(generationBatchSize);

        if (!File.Exists(data) && !Directory.Exists(data))
        {
            throw new LlamaMoeException(GenerationErrorCodes.DataFileMissing, "the evaluation data file does not exist", data);
        }

        var tokenizer = TokenizerLoader.Load(directory);
        using var model = LlamaMoe.Modeling.Loading.CausalLanguageModelLoader.Load(directory, placement.Device, placement.Dtype);
        var outcome = new TaskEvaluator(model, tokenizer, 8192, cancellationToken, batchSize).Run(task);
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
