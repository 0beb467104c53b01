using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>An evaluation task.</summary>
public enum EvaluationTaskKind
{
    /// <summary>Mean negative log-likelihood and perplexity on a stories or text file.</summary>
    Perplexity,

    /// <summary>MMLU multiple choice (log-likelihood of the answer letter), k-shot from the dev split.</summary>
    Mmlu,

    /// <summary>GSM8K exact match of the final number, k-shot, greedy generation.</summary>
    Gsm8k,

    /// <summary>HumanEval pass@1 in the Python sandbox.</summary>
    Humaneval,

    /// <summary>MBPP pass@1 in the Python sandbox.</summary>
    Mbpp,

    /// <summary>Per layer expert load of the MLP (and attention) routers on a text file, with heatmaps.</summary>
    ExpertUsage,
}

/// <summary>The layout of a perplexity or expert-usage file.</summary>
public enum TextLayout
{
    /// <summary>Documents separated by <c>&lt;|endoftext|&gt;</c> lines, each scored on its own (stories260K protocol).</summary>
    Stories,

    /// <summary>One text cut into windows of <c>max-length</c> tokens.</summary>
    Text,
}

/// <summary>One item of the evaluate step's <c>tasks:</c>.</summary>
public sealed class EvaluationTaskOptions
{
    /// <summary>The task.</summary>
    [Option("perplexity, mmlu, gsm8k, humaneval, mbpp or expert-usage.", Required = true)]
    public EvaluationTaskKind Task { get; set; }

    /// <summary>The data.</summary>
    [Option("The data: a stories/text file (perplexity, expert-usage), the MMLU folder (dev/, test/), or a jsonl file (gsm8k, humaneval, mbpp).", Required = true, Path = OptionPathKind.Input)]
    public string Data { get; set; } = string.Empty;

    /// <summary>A label for the report.</summary>
    [Option("A label for the report (default: the task name).")]
    public string? Name { get; set; }

    /// <summary>Text layout.</summary>
    [Option("Layout of a perplexity/expert-usage file: stories or text.")]
    public TextLayout Format { get; set; } = TextLayout.Stories;

    /// <summary>First item used, 1-based.</summary>
    [Option("First item used, 1-based (for example story 601).", Minimum = 1)]
    public int First { get; set; } = 1;

    /// <summary>How many items from <see cref="First"/> on.</summary>
    [Option("How many items from 'first' on (default: all the rest; for mmlu: per subject).", Minimum = 1)]
    public int? Count { get; set; }

    /// <summary>Token limit per sequence.</summary>
    [Option("Longest scored sequence in tokens (perplexity, expert-usage).", Minimum = 2)]
    public int MaxLength { get; set; } = 512;

    /// <summary>Few-shot examples.</summary>
    [Option("Few-shot examples (mmlu: from dev/; gsm8k: the first k problems of 'shots-data' or of 'data', which are then not scored).", Minimum = 0, Maximum = 25)]
    public int Shots { get; set; }

    /// <summary>Where GSM8K shots come from.</summary>
    [Option("A GSM8K jsonl file to take the shots from (default: 'data').", Path = OptionPathKind.Input)]
    public string? ShotsData { get; set; }

    /// <summary>Generation budget.</summary>
    [Option("Tokens generated per answer (gsm8k, humaneval, mbpp).", Minimum = 1, Maximum = 4096)]
    public int MaxNewTokens { get; set; } = 128;
}
