using LlamaMoe.Modeling;
using LlamaMoe.Pipeline.Services;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Cli;

/// <summary>
/// Where a model command (<c>eval</c>, <c>generate</c>) loads its model: <c>--device auto|cpu|cuda</c> (default
/// <c>cpu</c>) and <c>--dtype float32|bfloat16</c> (default: the checkpoint's own type).
/// </summary>
internal sealed record ModelPlacement(Device Device, ScalarType? Dtype)
{
    /// <summary>The usage fragment of the two flags.</summary>
    public const string Usage = "[--device auto|cpu|cuda] [--dtype float32|bfloat16]";

    /// <summary>Reads the flags; loads the native runtime.</summary>
    /// <exception cref="CliUsageException">An unknown device or dtype.</exception>
    public static ModelPlacement From(CliArguments arguments)
    {
        var requested = arguments.Option("device") ?? "cpu";
        if (requested is not ("auto" or "cpu" or "cuda"))
        {
            throw new CliUsageException($"--device must be auto, cpu or cuda, got '{requested}'");
        }

        ScalarType? dtype = arguments.Option("dtype") switch
        {
            null => null,
            "float32" => ScalarType.Float32,
            "bfloat16" => ScalarType.BFloat16,
            var other => throw new CliUsageException($"--dtype must be float32 or bfloat16, got '{other}'"),
        };
        TorchRuntime.EnsureLoaded();
        var kind = new DeviceSelection(requested, CudaProbe.IsAvailable).Kind;
        if (kind == "cuda" && !CudaProbe.IsAvailable())
        {
            throw new LlamaMoeException("LMOE1020", "--device cuda was given but libtorch sees no CUDA device", key: "--device",
                advice: "Run 'llama-moe doctor' to see which libtorch is loaded; see the README's GPU section for LLAMAMOE_LIBTORCH.");
        }

        return new ModelPlacement(new Device(kind), dtype);
    }
}
