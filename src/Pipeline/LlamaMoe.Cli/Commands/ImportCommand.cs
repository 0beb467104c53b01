using System.CommandLine;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe import</c>: converts a llama2.c .bin or a GGUF file into a Hugging Face model directory.</summary>
public sealed class ImportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "import";

    /// <inheritdoc />
    public string Summary => "Import a llama2.c .bin or a GGUF file into a Hugging Face model directory.";

    private readonly Argument<string> file = CliOptions.Argument("file.bin|file.gguf", "A llama2.c checkpoint or a GGUF file.");
    private readonly Option<string> outDir = CliOptions.Path("--out", "The model directory to write.", "DIR", required: true);
    private readonly Option<string> tokenizerFile = CliOptions.Path("--tokenizer", "The tokenizer.model to copy (llama2.c files carry none).", "tokenizer.model");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [file, outDir, tokenizerFile];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var source = parse.GetRequiredValue(file);
        var output = CommandLinePaths.OutputDirectory(parse.GetRequiredValue(outDir), "out");
        var tokenizer = parse.GetValue(tokenizerFile);
        TorchRuntime.EnsureLoaded();
        var result = ModelImporter.Import(source, output, tokenizer);
        var c = result.Config;
        Console.WriteLine(TerminalText.Escape($"imported {result.Format} {Path.GetFileName(source)} -> {Path.GetFullPath(output)}"));
        Console.WriteLine($"  layers {c.NumHiddenLayers}, hidden {c.HiddenSize}, heads {c.NumAttentionHeads}/{c.NumKeyValueHeads} kv, vocab {c.VocabSize}, tied {c.TieWordEmbeddings.ToString().ToLowerInvariant()}");
        return ExitCodes.Success;
    }
}
