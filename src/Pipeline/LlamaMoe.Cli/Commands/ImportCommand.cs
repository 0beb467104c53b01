using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Import;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe import</c>: converts a llama2.c .bin or a GGUF file into a Hugging Face model directory.</summary>
public sealed class ImportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "import";

    /// <inheritdoc />
    public string Summary => "Import a llama2.c .bin or a GGUF file into a Hugging Face model directory.";

    /// <inheritdoc />
    public string Usage => "llama-moe import <file.bin|file.gguf> --out <dir> [--tokenizer <tokenizer.model>]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var source = arguments.Required(0, "the file to import");
        var output = arguments.OutputDirectory("out") ?? throw new CliUsageException("missing --out <dir>");
        var tokenizer = arguments.Option("tokenizer");
        arguments.ThrowOnUnused();
        TorchRuntime.EnsureLoaded();
        var result = ModelImporter.Import(source, output, tokenizer);
        var c = result.Config;
        Console.WriteLine(TerminalText.Escape($"imported {result.Format} {Path.GetFileName(source)} -> {Path.GetFullPath(output)}"));
        Console.WriteLine($"  layers {c.NumHiddenLayers}, hidden {c.HiddenSize}, heads {c.NumAttentionHeads}/{c.NumKeyValueHeads} kv, vocab {c.VocabSize}, tied {c.TieWordEmbeddings.ToString().ToLowerInvariant()}");
        return ExitCodes.Success;
    }
}
