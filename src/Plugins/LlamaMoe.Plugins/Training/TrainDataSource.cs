using LlamaMoe.Modeling.Data;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training;

/// <summary>One training data source of the <c>train</c> steps (an item of <c>sources:</c>).</summary>
public sealed class TrainDataSource
{
    /// <summary>The data file.</summary>
    [Option("The data file.", Required = true, Path = OptionPathKind.Input)]
    public string Path { get; set; } = string.Empty;

    /// <summary>Its layout.</summary>
    [Option("Layout: stories, text, text-jsonl, chat, instruction or gsm8k.")]
    public DataFormat Format { get; set; } = DataFormat.Stories;

    /// <summary>Mixture weight.</summary>
    [Option("Mixture weight (relative share of the examples).", Minimum = 1e-9)]
    public double Weight { get; set; } = 1.0;

    /// <summary>Chat template for chat-like sources.</summary>
    [Option("Chat template for chat, instruction and gsm8k sources: llama2, llama3 or plain (default: llama3 for Llama 3 tokenizers, else plain).")]
    public string? ChatTemplate { get; set; }

    /// <summary>First example used (1-based).</summary>
    [Option("First example used, 1-based (for example story 1).", Minimum = 1)]
    public int First { get; set; } = 1;

    /// <summary>How many examples are used from <see cref="First"/> on.</summary>
    [Option("How many examples from 'first' on (default: all the rest).", Minimum = 1)]
    public int? Count { get; set; }
}
