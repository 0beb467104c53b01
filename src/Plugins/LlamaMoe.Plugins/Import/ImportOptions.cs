using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Import;

/// <summary>Options of the <c>import</c> step.</summary>
public sealed class ImportOptions : StepOptions
{
    /// <summary>The model to import.</summary>
    [Option("A llama2.c .bin, a .gguf file or a Hugging Face model folder (config.json + safetensors).", Required = true, Path = OptionPathKind.Input)]
    public string Source { get; set; } = string.Empty;

    /// <summary>An optional SentencePiece tokenizer.model.</summary>
    [Option("A SentencePiece tokenizer.model to store with the model (default: the GGUF's own tokenizer, the single *.model beside a .bin, or the folder's tokenizer files).", Path = OptionPathKind.Input)]
    public string? Tokenizer { get; set; }
}
