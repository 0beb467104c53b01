using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Export;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe export</c>: writes a model directory as native, Mixtral, LLaMA-MoE v2 or GGUF.</summary>
public sealed class ExportCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "export";

    /// <inheritdoc />
    public string Summary => "Export a model directory (dense or MoE) as native, mixtral, llama-moe-v2, qwen2-moe or gguf.";

    /// <inheritdoc />
    public string Usage => "llama-moe export <model-dir> --format native|mixtral|llama-moe-v2|qwen2-moe|gguf --out <path> [--gguf-type f32|f16|bf16]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var source = arguments.ModelDirectory(0);
        var format = arguments.Option("format") ?? throw new CliUsageException("missing --format native|mixtral|llama-moe-v2|qwen2-moe|gguf");
        var output = arguments.Option("out") ?? throw new CliUsageException("missing --out <path>");
        var type = (arguments.Option("gguf-type") ?? "f32") switch
        {
            "f32" => GgufTensorType.F32,
            "f16" => GgufTensorType.F16,
            "bf16" => GgufTensorType.BF16,
            var other => throw new CliUsageException($"--gguf-type must be f32, f16 or bf16, not '{other}'"),
        };
        arguments.ThrowOnUnused();
        TorchRuntime.EnsureLoaded();
        Console.WriteLine("exported " + ModelExporter.Export(source, format, output, type));
        return ExitCodes.Success;
    }
}
