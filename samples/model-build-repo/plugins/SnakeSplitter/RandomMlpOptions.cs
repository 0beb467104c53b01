using LlamaMoe.Pipeline;

namespace SnakeSplitter;

/// <summary>Options of <c>fixture/random-mlp</c>.</summary>
public sealed class RandomMlpOptions : StepOptions
{
    /// <summary>H, the model width.</summary>
    [Option("Model width H.", Minimum = 1, Maximum = 4096)]
    public int Hidden { get; set; } = 8;

    /// <summary>I, the neurons per layer.</summary>
    [Option("Neurons per MLP layer (intermediate size I).", Minimum = 1, Maximum = 16384)]
    public int Intermediate { get; set; } = 16;

    /// <summary>The number of layers.</summary>
    [Option("Number of layers.", Minimum = 1, Maximum = 64)]
    public int Layers { get; set; } = 2;
}
