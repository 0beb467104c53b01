using LlamaMoe.Modeling;
using TorchSharp;

namespace LlamaMoe.Cli;

/// <summary>Answers <c>device: auto</c>: whether libtorch sees a CUDA device (false with the CPU-only runtime).</summary>
internal static class CudaProbe
{
    /// <summary>True when a CUDA device is usable; loads the native runtime on first use.</summary>
    public static bool IsAvailable()
    {
        TorchRuntime.EnsureLoaded();
        return torch.cuda.is_available();
    }
}
