using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling;

/// <summary>
/// What <c>llama-moe doctor</c> reports: which libtorch TorchSharp runs on and where it came from, what CUDA sees,
/// and the settings that decide speed (threads, TF32, bf16, allocator).
/// </summary>
/// <param name="TorchSharpVersion">The TorchSharp assembly's version.</param>
/// <param name="LibTorch">The libtorch folder, its source and version.</param>
/// <param name="LoadedFrom">The folder the loaded <c>libtorch_cpu.so</c> was mapped from (<c>/proc/self/maps</c>); null when unknown.</param>
/// <param name="LibTorchSharpPath">The loaded <c>libLibTorchSharp.so</c>.</param>
/// <param name="ExpectedLibTorchVersion">The libtorch version TorchSharp was built against.</param>
/// <param name="LibTorchHasCuda">Whether <c>libtorch_cuda.so</c> is loaded.</param>
/// <param name="CudaAvailable"><c>torch.cuda.is_available()</c>.</param>
/// <param name="CudaDeviceCount"><c>torch.cuda.device_count()</c>.</param>
/// <param name="CudnnAvailable"><c>torch.cuda.is_cudnn_available()</c>.</param>
/// <param name="Devices">Names, memory and compute capability, and their source.</param>
/// <param name="Bf16Supported">Whether bfloat16 compute works on the default device.</param>
/// <param name="Bf16Check">How <paramref name="Bf16Supported"/> was decided.</param>
/// <param name="Threads"><c>torch.get_num_threads()</c>.</param>
/// <param name="Tf32Matmul"><c>torch.backends.cuda.matmul.allow_tf32</c>.</param>
/// <param name="Tf32Cudnn"><c>torch.backends.cudnn.allow_tf32</c>.</param>
/// <param name="GlibcTunables">The <c>GLIBC_TUNABLES</c> this process started with, or null.</param>
/// <param name="CudaAllocatorConfig"><c>PYTORCH_CUDA_ALLOC_CONF</c>, or null.</param>
public sealed record TorchRuntimeReport(
    string TorchSharpVersion,
    LibTorchLocation LibTorch,
    string? LoadedFrom,
    string? LibTorchSharpPath,
    string? ExpectedLibTorchVersion,
    bool LibTorchHasCuda,
    bool CudaAvailable,
    int CudaDeviceCount,
    bool CudnnAvailable,
    CudaDeviceList Devices,
    bool Bf16Supported,
    string Bf16Check,
    int Threads,
    bool Tf32Matmul,
    bool Tf32Cudnn,
    string? GlibcTunables,
    string? CudaAllocatorConfig)
{
    /// <summary>Loads libtorch (throwing <see cref="TorchUnavailableException"/> when it cannot) and inspects it.</summary>
    public static TorchRuntimeReport Inspect()
    {
        TorchRuntime.EnsureLoaded();
        var cudaAvailable = cuda.is_available();
        var count = cudaAvailable ? cuda.device_count() : 0;
        var devices = count > 0 ? CudaDevices.Query() : new CudaDeviceList([], "none");
        var (bf16, how) = CheckBf16(cudaAvailable, devices);
        var loadedFrom = LoadedNativeLibraries.PathOf("libtorch_cpu.so");
        return new TorchRuntimeReport(
            typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?",
            TorchRuntime.Location!,
            loadedFrom is null ? null : Path.GetDirectoryName(loadedFrom),
            TorchRuntime.LibTorchSharpPath,
            TorchRuntime.ExpectedLibTorchVersion,
            LoadedNativeLibraries.PathOf("libtorch_cuda.so") is not null,
            cudaAvailable,
            count,
            cudaAvailable && cuda.is_cudnn_available(),
            devices,
            bf16,
            how,
            get_num_threads(),
            backends.cuda.matmul.allow_tf32,
            backends.cudnn.allow_tf32,
            Environment.GetEnvironmentVariable(NativeAllocatorSettings.VariableName),
            Environment.GetEnvironmentVariable("PYTORCH_CUDA_ALLOC_CONF"));
    }

    /// <summary>Whether <see cref="GlibcTunables"/> is the recommended setting.</summary>
    public bool RecommendedTunables => GlibcTunables == NativeAllocatorSettings.RecommendedTunables;

    private static (bool Supported, string How) CheckBf16(bool cudaAvailable, CudaDeviceList devices)
    {
        if (cudaAvailable && devices.Devices.FirstOrDefault()?.ComputeMajor is { } major)
        {
            return major >= 8
                ? (true, $"cuda:0 compute capability {devices.Devices[0].ComputeCapability} (8.0 or newer has bf16 tensor cores)")
                : (false, $"cuda:0 compute capability {devices.Devices[0].ComputeCapability} (bf16 needs 8.0 or newer)");
        }

        var device = cudaAvailable ? CUDA : CPU;
        var where = cudaAvailable ? "cuda:0" : "cpu";
        try
        {
            using var scope = NewDisposeScope();
            var a = ones(4, 4, dtype: ScalarType.BFloat16, device: device);
            var sum = a.matmul(a).to(ScalarType.Float32).sum().cpu().item<float>();
            return sum == 64f ? (true, $"a bf16 matmul on {where} works") : (false, $"a bf16 matmul on {where} gave {sum} instead of 64");
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException or NotSupportedException)
        {
            return (false, $"a bf16 matmul on {where} failed: {ex.Message.Split('\n')[0]}");
        }
    }
}
