using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Export;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe export</c>: writes a model directory as native, Mixtral, LLaMA-MoE v2 or GGUF.</summary>
public sealed class ExportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "export";

    /// <inheritdoc />
    public string Summary => "Export a model directory (dense or MoE) as native, mixtral, llama-moe-v2 or gguf.";

    /// <inheritdoc />
    public string Usage => "llama-moe export <model-dir> --format native|mixtral|llama-moe-v2|gguf --out <path> [--gguf-type f32|f16|bf16]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var source = arguments.ModelDirectory(0);
        var format = arguments.Option("format") ?? throw new CliUsageException("missing --format native|mixtral|llama-moe-v2|gguf");
        var output = arguments.Option("out") ?? throw new CliUsageException("missing --out <path>");
        var type = (arguments.Option("gguf-type") ?? "f32") switch
        {
            "f32" => GgufTensorType.F32,
            "f16" => GgufTensorType.F16,
            "bf16" => GgufTensorType.BF16,
            var other => throw new CliUsageException($"--gguf-type must be f32, f16 or bf16, not '{other}'"),
        };
        arguments.ThrowOnUnused();
        if (format == "gguf" && Directory.Exists(output))
        {
            throw new LlamaMoeException("LMOE0912", "--out names an existing directory, but a GGUF export writes one file", output, "--out",
                "Name the .gguf file to write, for example DIR/model.gguf.");
        }

        TorchRuntime.EnsureLoaded();
        Console.WriteLine(TerminalText.Escape("exported " + ModelExporter.Export(source, format, output, type)));
        return ExitCodes.Success;
    }
}
