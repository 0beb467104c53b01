using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>The result of one task on one model: its scores and, for expert-usage, the per-layer router statistics.</summary>
/// <param name="Scores">The task's metrics.</param>
/// <param name="Usage">Per router kind, the per-layer expert load (expert-usage only; empty otherwise).</param>
public sealed record TaskOutcome(IReadOnlyList<TaskScore> Scores, IReadOnlyDictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>> Usage);

/// <summary>Runs one evaluation task on one model (used by the <c>evaluate</c> step and by <c>llama-moe eval</c>).</summary>
public sealed class TaskEvaluator
{
    private readonly LlamaForCausalLM model;
    private readonly ITextTokenizer tokenizer;
    private readonly ModelScoring scoring;
    private readonly int maxBatchTokens;
    private readonly CancellationToken cancellationToken;

    /// <summary>Creates an evaluator for <paramref name="model"/> and its <paramref name="tokenizer"/>.</summary>
    /// <param name="model">The model (dense or MoE), in evaluation mode.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="maxBatchTokens">Tokens per perplexity batch.</param>
    /// <param name="cancellationToken">Stops long tasks.</param>
    /// <param name="generationBatchSize">Prompts generated together (gsm8k, humaneval, mbpp); the results do not depend on it.</param>
    public TaskEvaluator(LlamaForCausalLM model, ITextTokenizer tokenizer, int maxBatchTokens, CancellationToken cancellationToken, int generationBatchSize = EvaluateOptions.DefaultGenerationBatchSize)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxBatchTokens = maxBatchTokens;
        this.cancellationToken = cancellationToken;
        scoring = new ModelScoring(model, tokenizer, generationBatchSize, cancellationToken);
    }

    /// <summary>Runs <paramref name="task"/>; throws LMOE3305 when it selects no data.</summary>
    public TaskOutcome Run(EvaluationTaskOptions task)
    {
        var label = task.Name ?? EvaluateOptions.Label(task.Task);
        var none = new Dictionary<RouterKind, IReadOnlyList<LayerRoutingStatistics>>();
        switch (task.Task)
        {
            case EvaluationTaskKind.Perplexity:
                var result = PerplexityEvaluator.Evaluate(model, Sequences(task), maxBatchTokens, cancellationToken);
                return new([new(label, "mean_nll", result.MeanNll, result.Sequences), new(label, "perplexity", result.Perplexity, result.Sequences),
                    new(label, "tokens", result.Tokens, result.Sequences)], none);
            case EvaluationTaskKind.Mmlu:
                var questions = MmluQuestions(task);
                var mc = MultipleChoiceEvaluator.Evaluate(questions, scoring.Encode, scoring.Score);
                return new([new(label, "acc", mc.Accuracy, mc.Count), new(label, "acc_norm", mc.NormalizedAccuracy, mc.Count)], none);
            case EvaluationTaskKind.Gsm8k:
                var problems = Gsm8kJsonlReader.ReadProblems(task.Data);
                var shots = task.ShotsData is null ? problems.Take(task.Shots).ToList() : Gsm8kJsonlReader.ReadProblems(task.ShotsData).Take(task.Shots).ToList();
                var scored = task.ShotsData is null ? problems.Skip(task.Shots).ToList() : problems;
                var em = Gsm8kEvaluator.Evaluate(Range(scored, task), shots, task.Shots, scoring.CompleteAll, task.MaxNewTokens);
                return new([new(label, "exact_match", em.ExactMatch, em.Count)], none);
            case EvaluationTaskKind.Humaneval:
            case EvaluationTaskKind.Mbpp:
                return new([Code(task, label)], none);
            default:
                return ExpertUsage(task, label);
        }
    }

    private TaskScore Code(EvaluationTaskOptions task, string label)
    {
        var all = task.Task == EvaluationTaskKind.Humaneval ? CodeProblems.ReadHumanEval(task.Data) : CodeProblems.ReadMbpp(task.Data);
        var shots = all.Take(task.Shots).ToList();
        var problems = Range(all.Skip(task.Shots).ToList(), task).Select(p => shots.Count > 0 ? CodeProblems.WithShots(p, shots) : p).ToList();
        var sandbox = PythonSandbox.Probe(out var skipReason);
        var result = CodeEvaluator.Evaluate(problems, scoring.CompleteAll, sandbox, skipReason is null ? null : "skipped: " + skipReason, maxNewTokens: task.MaxNewTokens);
        return new(label, "pass@1", result.PassAt1, result.Count, Note: result.Skipped);
    }

    private TaskOutcome ExpertUsage(EvaluationTaskOptions task, string label)
    {
        var collector = new ExpertUsageCollector();
        var blocks = model.Model.Layers.Select(l => l.FeedForward).ToList();
        foreach (var block in blocks)
        {
            block.RecordRouting = true;
        }

        using (no_grad())
        {
            foreach (var sequence in Sequences(task))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var input = tensor(sequence.Select(i => (long)i).ToArray(), [1, sequence.Count], device: model.LmHeadWeight.device); // (1, T)
                using var output = model.Forward(input);
                collector.AddFrom(blocks);
            }
        }

        foreach (var block in blocks)
        {
            block.RecordRouting = false;
        }

        var usage = collector.Kinds.ToDictionary(k => k, collector.Statistics);
        var mlp = usage.GetValueOrDefault(RouterKind.Mlp) ?? [];
        var score = mlp.Count == 0
            ? new TaskScore(label, "max_load", null, 0, Note: "dense model: no routers")
            : new TaskScore(label, "max_load", mlp.Average(l => l.MaxLoadFraction), mlp.Count, Note: $"mean load CV {mlp.Average(l => l.LoadCoefficientOfVariation):F3}");
        return new([score], usage);
    }

    private IReadOnlyList<IReadOnlyList<int>> Sequences(EvaluationTaskOptions task)
    {
        var text = LlamaMoe.Modeling.Data.InputFile.ReadAllText(task.Data, "data");
        var length = Math.Min(task.MaxLength, model.Config.MaxPositionEmbeddings);
        var all = task.Format == TextLayout.Stories ? EvaluationCorpus.Stories(text, tokenizer, length) : EvaluationCorpus.PlainText(text, tokenizer, length);
        return Range(all, task);
    }

    private List<MultipleChoiceQuestion> MmluQuestions(EvaluationTaskOptions task)
    {
        var testFolder = Path.Combine(task.Data, "test");
        var testFiles = Directory.Exists(testFolder) ? Directory.EnumerateFiles(testFolder, "*.csv").Order(StringComparer.Ordinal).ToList() : [];
        if (testFiles.Count == 0)
        {
            throw new LlamaMoeException(PluginErrorCodes.EvaluationData, "the MMLU folder has no test/*.csv", task.Data, "data",
                "Point 'data' at the MMLU folder holding dev/ and test/.");
        }

        var questions = new List<MultipleChoiceQuestion>();
        foreach (var file in testFiles)
        {
            var subject = MmluCsvReader.SubjectOf(file);
            var devFile = Path.Combine(task.Data, "dev", subject.Replace(' ', '_') + "_dev.csv");
            var dev = task.Shots > 0 && File.Exists(devFile) ? MmluCsvReader.Read(devFile) : [];
            questions.AddRange(Range(MmluCsvReader.Read(file), task).Select(item => MmluPromptBuilder.Build(item, dev, task.Shots, MmluContinuationStyle.Letter)));
        }

        return questions;
    }

    private static List<T> Range<T>(IReadOnlyList<T> items, EvaluationTaskOptions task)
    {
        if (task.Count is <= 0)
        {
            throw new LlamaMoeException(PluginErrorCodes.EvaluationData, $"task '{task.Name ?? EvaluateOptions.Label(task.Task)}' selects no item: 'count' is {task.Count}",
                task.Data, "count", "Set 'count' to 1 or more, or leave it out to evaluate every item.");
        }

        if (task.First < 1)
        {
            throw new LlamaMoeException(PluginErrorCodes.EvaluationData, $"task '{task.Name ?? EvaluateOptions.Label(task.Task)}': 'first' is {task.First}, but items are numbered from 1",
                task.Data, "first", "Set 'first' to 1 or more.");
        }

        var selected = items.Skip(task.First - 1).Take(task.Count ?? int.MaxValue).ToList();
        return selected.Count > 0
            ? selected
            : throw new LlamaMoeException(PluginErrorCodes.EvaluationData, $"task '{task.Name ?? EvaluateOptions.Label(task.Task)}' selects no item: the data holds {items.Count}, 'first' is {task.First}",
                task.Data, "first", "Lower 'first'.");
    }
}
