using LlamaMoe.Modeling.Data;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training;

/// <summary>Options of the <c>model/init</c> step.</summary>
public sealed class InitModelOptions : StepOptions
{
    /// <summary>Text the tokenizer is trained on.</summary>
    [Option("Text to train the BPE tokenizer on (ignored when 'tokenizer' is given).", Path = OptionPathKind.Input)]
    public string? Data { get; set; }

    /// <summary>The layout of <see cref="Data"/>.</summary>
    [Option("Layout of 'data': stories, text, text-jsonl, chat, instruction or gsm8k.")]
    public DataFormat Format { get; set; } = DataFormat.Stories;

    /// <summary>An existing SentencePiece tokenizer.model to use instead of training one.</summary>
    [Option("An existing SentencePiece tokenizer.model to use instead of training one.", Path = OptionPathKind.Input)]
    public string? Tokenizer { get; set; }

    /// <summary>Target vocabulary size of the trained tokenizer.</summary>
    [Option("Target vocabulary size of the trained tokenizer (the model uses the size actually reached).", Minimum = 8, Maximum = 65536)]
    public int VocabSize { get; set; } = 512;

    /// <summary>Hidden size.</summary>
    [Option("Hidden size (model width).", Minimum = 8, Maximum = 16384)]
    public int Hidden { get; set; } = 64;

    /// <summary>Decoder layers.</summary>
    [Option("Number of decoder layers.", Minimum = 1, Maximum = 128)]
    public int Layers { get; set; } = 4;

    /// <summary>Attention heads.</summary>
    [Option("Number of attention heads.", Minimum = 1, Maximum = 256)]
    public int Heads { get; set; } = 4;

    /// <summary>Key/value heads.</summary>
    [Option("Number of key/value heads (grouped-query attention); default: heads.", Minimum = 1, Maximum = 256)]
    public int? KvHeads { get; set; }

    /// <summary>MLP intermediate size.</summary>
    [Option("MLP intermediate size.", Minimum = 4, Maximum = 65536)]
    public int Intermediate { get; set; } = 176;

    /// <summary>Maximum sequence length.</summary>
    [Option("Maximum sequence length (max_position_embeddings).", Minimum = 8, Maximum = 131072)]
    public int SeqLen { get; set; } = 256;

    /// <summary>Whether the output head shares the embedding matrix.</summary>
    [Option("Share the embedding matrix with the output head.")]
    public bool TieEmbeddings { get; set; } = true;

    /// <summary>Initialisation seed; the pipeline seed when absent.</summary>
    [Option("Initialisation seed (default: the pipeline seed).", Minimum = 0)]
    public int? Seed { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Data is null && Tokenizer is null)
        {
            yield return new OptionProblem("data", "give 'data' to train a tokenizer on, or an existing 'tokenizer'");
        }

        if (Hidden % Heads != 0 || (Hidden / Heads) % 2 != 0)
        {
            yield return new OptionProblem("heads", $"hidden ({Hidden}) must be divisible by heads ({Heads}) into an even head size");
        }

        if (KvHeads is { } kv && Heads % kv != 0)
        {
            yield return new OptionProblem("kv-heads", $"heads ({Heads}) must be a multiple of kv-heads ({kv})");
        }
    }
}
