using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace LlamaMoe.Modeling;

/// <summary>One CUDA device as the driver describes it.</summary>
/// <param name="Index">The CUDA ordinal (as in <c>cuda:0</c>).</param>
/// <param name="Name">The product name, such as <c>NVIDIA H200</c>.</param>
/// <param name="TotalMemoryBytes">Total device memory in bytes.</param>
/// <param name="ComputeCapability">Such as <c>9.0</c>; null when the source does not say.</param>
public sealed record CudaDeviceInfo(int Index, string Name, long TotalMemoryBytes, string? ComputeCapability)
{
    /// <summary>The major compute capability, or null when unknown.</summary>
    public int? ComputeMajor => ComputeCapability is { } c && int.TryParse(c.Split('.')[0], CultureInfo.InvariantCulture, out var major) ? major : null;
}

/// <summary>The CUDA devices and where their description came from.</summary>
/// <param name="Devices">The devices, by ordinal.</param>
/// <param name="Source">What answered: <c>CUDA driver API (libcuda.so.1)</c>, <c>nvidia-smi</c>, or <c>none</c>.</param>
public sealed record CudaDeviceList(IReadOnlyList<CudaDeviceInfo> Devices, string Source);

/// <summary>
/// Names, memory and compute capability of the CUDA devices. TorchSharp 0.107 exposes only
/// <c>torch.cuda.device_count()</c>, so this asks the CUDA driver API (<c>libcuda.so.1</c>, which honours
/// <c>CUDA_VISIBLE_DEVICES</c> like libtorch), and falls back to <c>nvidia-smi</c> when the driver library cannot be used.
/// </summary>
public static class CudaDevices
{
    private const string DriverSource = "CUDA driver API (libcuda.so.1)";
    private const int AttributeComputeMajor = 75;
    private const int AttributeComputeMinor = 76;
    private static readonly Lazy<CudaDeviceList> Cached = new(QueryUncached);

    private delegate int CuInit(uint flags);

    private delegate int CuDeviceGetCount(out int count);

    private delegate int CuDeviceGet(out int device, int ordinal);

    private delegate int CuDeviceGetName(IntPtr name, int length, int device);

    private delegate int CuDeviceTotalMem(out nuint bytes, int device);

    private delegate int CuDeviceGetAttribute(out int value, int attribute, int device);

    /// <summary>The devices (queried once per process; empty with source <c>none</c> on a machine without an NVIDIA driver).</summary>
    public static CudaDeviceList Query() => Cached.Value;

    private static CudaDeviceList QueryUncached() => FromDriver() ?? FromNvidiaSmi() ?? new CudaDeviceList([], "none");

    private static CudaDeviceList? FromDriver()
    {
        if (!NativeLibrary.TryLoad("libcuda.so.1", out var driver))
        {
            return null;
        }

        T? Export<T>(string name) where T : Delegate =>
            NativeLibrary.TryGetExport(driver, name, out var address) ? Marshal.GetDelegateForFunctionPointer<T>(address) : null;

        var init = Export<CuInit>("cuInit");
        var count = Export<CuDeviceGetCount>("cuDeviceGetCount");
        var get = Export<CuDeviceGet>("cuDeviceGet");
        var getName = Export<CuDeviceGetName>("cuDeviceGetName");
        var totalMemory = Export<CuDeviceTotalMem>("cuDeviceTotalMem_v2");
        var attribute = Export<CuDeviceGetAttribute>("cuDeviceGetAttribute");
        if (init is null || count is null || get is null || getName is null || totalMemory is null || attribute is null || init(0) != 0 || count(out var devices) != 0)
        {
            return null;
        }

        var list = new List<CudaDeviceInfo>();
        var buffer = Marshal.AllocHGlobal(256);
        try
        {
            for (var ordinal = 0; ordinal < devices; ordinal++)
            {
                if (get(out var device, ordinal) != 0)
                {
                    return null;
                }

                var name = getName(buffer, 256, device) == 0 ? Marshal.PtrToStringUTF8(buffer) ?? "?" : "?";
                var bytes = totalMemory(out var total, device) == 0 ? (long)total : 0;
                var capability = attribute(out var major, AttributeComputeMajor, device) == 0 && attribute(out var minor, AttributeComputeMinor, device) == 0
                    ? $"{major}.{minor}"
                    : null;
                list.Add(new CudaDeviceInfo(ordinal, name, bytes, capability));
            }
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }

        return new CudaDeviceList(list, DriverSource);
    }

    private static CudaDeviceList? FromNvidiaSmi()
    {
        var lines = RunNvidiaSmi("name,memory.total,compute_cap") ?? RunNvidiaSmi("name,memory.total");
        if (lines is null)
        {
            return null;
        }

        var devices = lines.Select((line, index) =>
        {
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            var mebibytes = fields.Length > 1 && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var m) ? m : 0;
            return new CudaDeviceInfo(index, fields[0], mebibytes * 1024 * 1024, fields.Length > 2 ? fields[2] : null);
        }).ToList();
        return new CudaDeviceList(devices, "nvidia-smi (lists every GPU; ignores CUDA_VISIBLE_DEVICES)");
    }

    private static List<string>? RunNvidiaSmi(string fields)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", $"--query-gpu={fields} --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            var lines = output.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            return process.ExitCode == 0 && lines.Count > 0 ? lines : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
