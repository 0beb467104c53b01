using LlamaMoe.Modeling;
using TorchSharp;

namespace LlamaMoe.Cli;

/// <summary>Answers <c>device: auto</c>: whether libtorch sees a CUDA device (false with the CPU-only runtime).</summary>
internal static class CudaProbe
{
    /// <summary>
    /// True when a CUDA device is usable. When the libtorch that would be loaded has no CUDA part (the bundled CPU
    /// package, or an <c>LLAMAMOE_LIBTORCH</c> folder without <c>libtorch_cuda.so</c>) the answer is false without
    /// loading libtorch; otherwise the native runtime is loaded and asked.
    /// </summary>
    public static bool IsAvailable()
    {
        if (!MayHaveCuda())
        {
            return false;
        }

        TorchRuntime.EnsureLoaded();
        return torch.cuda.is_available();
    }

    /// <summary>False only when the libtorch to be loaded certainly lacks its CUDA library.</summary>
    private static bool MayHaveCuda()
    {
        var setting = Environment.GetEnvironmentVariable(LibTorchLocation.VariableName);
        if (string.IsNullOrWhiteSpace(setting))
        {
            return File.Exists(Path.Combine(AppContext.BaseDirectory, "libtorch_cuda.so"))
                || File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cuda.so"));
        }

        // 'python' or a folder: resolve (cheap, no native load); a bad setting is reported by the load that follows.
        try
        {
            return LibTorchLocation.Resolve(setting).HasCuda;
        }
        catch (TorchUnavailableException)
        {
            return true;
        }
    }
}
