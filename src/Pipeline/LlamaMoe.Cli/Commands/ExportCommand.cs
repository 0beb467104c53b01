using System.CommandLine;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats.Gguf;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe export</c>: writes a model directory as native, Mixtral, LLaMA-MoE v2 or GGUF.</summary>
public sealed class ExportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "export";

    /// <inheritdoc />
    public string Summary => "Export a model directory (dense or MoE) as native, mixtral, llama-moe-v2, qwen2-moe or gguf.";

    private readonly Argument<string> modelDirectory = CliOptions.Argument("model-dir", "The model directory (config.json, weights, tokenizer.model).");
    private readonly Option<string> formatName = CliOptions.Choice("--format", "The format to write.", null, "native", "mixtral", "llama-moe-v2", "qwen2-moe", "gguf");
    private readonly Option<string> outPath = CliOptions.Path("--out", "The directory (or .gguf file) to write.", "PATH", required: true);
    private readonly Option<string> ggufType = CliOptions.Choice("--gguf-type", "The tensor type of a GGUF export.", "f32", "f32", "f16", "bf16");

    /// <summary>Creates the command; <c>--format</c> is required.</summary>
    public ExportCommand()
    {
        formatName.Required = true;
    }

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [modelDirectory, formatName, outPath, ggufType];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var source = CommandLinePaths.ModelDirectory(parse.GetRequiredValue(modelDirectory));
        var format = parse.GetRequiredValue(formatName);
        var output = parse.GetRequiredValue(outPath);
        var type = parse.GetValue(ggufType) switch
        {
            "f16" => GgufTensorType.F16,
            "bf16" => GgufTensorType.BF16,
            _ => GgufTensorType.F32,
        };
        if (format == "gguf" && Directory.Exists(output))
        {
            throw new LlamaMoeException(CommandLinePaths.OutputIsDirectoryCode, "--out names an existing directory, but a GGUF export writes one file", output, "--out",
                "Name the .gguf file to write, for example DIR/model.gguf.");
        }

        TorchRuntime.EnsureLoaded();
        Console.WriteLine(TerminalText.Escape("exported " + ModelExporter.Export(source, format, output, type)));
        return ExitCodes.Success;
    }
}
