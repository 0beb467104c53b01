using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>Options of the <c>evaluate</c> step.</summary>
public sealed class EvaluateOptions : StepOptions
{
    /// <summary>The tasks.</summary>
    [Option("The tasks: each { task, data, name, format, first, count, max-length, shots, shots-data, max-new-tokens }.", Required = true)]
    public List<EvaluationTaskOptions> Tasks { get; set; } = [];

    /// <summary>The stage whose model is the baseline.</summary>
    [Option("A needed stage whose model every other model is compared with (for example the dense model).")]
    public string? Baseline { get; set; }

    /// <summary>Batch size in tokens for perplexity.</summary>
    [Option("Tokens per batch when scoring perplexity.", Minimum = 64)]
    public int MaxBatchTokens { get; set; } = 8192;

    /// <summary>The default of <see cref="GenerationBatchSize"/>.</summary>
    public const int DefaultGenerationBatchSize = 16;

    /// <summary>Prompts generated together.</summary>
    [Option("Prompts generated together with one KV cache (gsm8k, humaneval, mbpp); the scores do not depend on it.", Minimum = 1)]
    public int GenerationBatchSize { get; set; } = DefaultGenerationBatchSize;

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Tasks.Count == 0)
        {
            yield return new OptionProblem("tasks", "give at least one task");
        }

        var labels = Tasks.Select(t => t.Name ?? Label(t.Task)).ToList();
        foreach (var duplicate in labels.GroupBy(l => l).Where(g => g.Count() > 1))
        {
            yield return new OptionProblem("tasks", $"two tasks are labelled '{duplicate.Key}'", "Give them distinct 'name's.");
        }
    }

    /// <summary>The report label of a task kind.</summary>
    public static string Label(EvaluationTaskKind kind) => kind switch
    {
        EvaluationTaskKind.ExpertUsage => "expert-usage",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
