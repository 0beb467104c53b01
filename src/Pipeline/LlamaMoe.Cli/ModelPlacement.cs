using System.CommandLine;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline;
using static TorchSharp.torch;

namespace LlamaMoe.Cli;

/// <summary>
/// Where a model command (<c>eval</c>, <c>generate</c>) loads its model: <c>--device auto|cpu|cuda</c> (default
/// <c>cpu</c>) and <c>--dtype float32|bfloat16</c> (default: the checkpoint's own type).
/// </summary>
internal sealed record ModelPlacement(Device Device, ScalarType? Dtype)
{
    /// <summary>The <c>--device</c> option of a model command.</summary>
    public static Option<string> DeviceOption() => CliOptions.Device(DeviceNames.Cpu, "Where the model runs: auto (CUDA when libtorch sees a device), cpu or cuda.");

    /// <summary>The <c>--dtype</c> option of a model command.</summary>
    public static Option<string> DtypeOption() => CliOptions.Choice("--dtype", "The weights' type in memory (default: the checkpoint's own type).", null, "float32", "bfloat16");

    /// <summary>Resolves the two options; loads the native runtime; LMOE1020 (exit 3) for <c>cuda</c> without a device.</summary>
    public static ModelPlacement From(string? requested, string? dtypeName)
    {
        requested ??= DeviceNames.Cpu;
        ScalarType? dtype = dtypeName switch
        {
            "float32" => ScalarType.Float32,
            "bfloat16" => ScalarType.BFloat16,
            _ => null,
        };
        CudaRequirement.Check(requested);
        TorchRuntime.EnsureLoaded();
        var kind = DeviceNames.Resolve(requested, CudaProbe.IsAvailable);
        return new ModelPlacement(new Device(kind), dtype);
    }
}
