using LlamaMoe.Pipeline;

namespace LlamaMoe.Cli;

/// <summary>
/// <c>--device cuda</c> on any command that takes <c>--device</c>: refused up front with LMOE1020 (exit code 3, the
/// native runtime cannot serve the request) when libtorch sees no CUDA device.
/// </summary>
internal static class CudaRequirement
{
    /// <summary>LMOE1020: <c>--device cuda</c> was given but libtorch sees no CUDA device.</summary>
    public const string NoCudaDeviceCode = "LMOE1020";

    /// <summary>Throws LMOE1020 when <paramref name="device"/> is <c>cuda</c> and no CUDA device is usable; loads libtorch only then.</summary>
    public static void Check(string? device)
    {
        if (device == DeviceNames.Cuda && !CudaProbe.IsAvailable())
        {
            throw new LlamaMoeException(NoCudaDeviceCode, "--device cuda was given but libtorch sees no CUDA device", key: "--device",
                advice: "Use --device cpu or auto, or run 'llama-moe doctor' to see which libtorch is loaded (see the README's GPU section for LLAMAMOE_LIBTORCH).");
        }
    }
}
