using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Data;

/// <summary>Options of the <c>data/synthetic</c> step.</summary>
public sealed class SyntheticDataOptions : StepOptions
{
    /// <summary>The generator seed; the pipeline seed when absent.</summary>
    [Option("Generator seed (default: the pipeline seed).", Minimum = 0)]
    public int? Seed { get; set; }

    /// <summary>People in the generated world.</summary>
    [Option("People in the generated world (their facts are the conversation domain).", Minimum = 2, Maximum = 64)]
    public int People { get; set; } = 16;

    /// <summary>Training questions per domain.</summary>
    [Option("Training questions per domain (conversation, math, code).", Minimum = 1, Maximum = 100000)]
    public int TrainExamples { get; set; } = 600;

    /// <summary>Held-out questions per domain.</summary>
    [Option("Held-out evaluation questions per domain, disjoint from training.", Minimum = 1, Maximum = 10000)]
    public int EvalExamples { get; set; } = 50;
}
