using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Cli.Commands;

/// <summary>
/// <c>llama-moe doctor</c>: which libtorch TorchSharp runs on (folder, version, where it came from), what CUDA sees
/// (devices, memory, compute capability, cuDNN), and the settings that decide speed (bf16, threads, TF32, allocator).
/// </summary>
public sealed class DoctorCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "doctor";

    /// <inheritdoc />
    public string Summary => "Report the libtorch, CUDA devices, bf16, threads, TF32 and allocator a run will use.";

    private readonly Option<bool> asJson = CliOptions.Flag("--json",
        $"Print the report as JSON. libtorch is loaded as a run would: the bundled package, or the one {LibTorchLocation.VariableName} names (a libtorch 'lib' folder, or 'python'); exit code 3 when it cannot be loaded.");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [asJson];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var json = parse.GetValue(asJson);
        var report = TorchRuntimeReport.Inspect();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(ToJson(report), new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        else
        {
            foreach (var (label, value) in Lines(report))
            {
                Console.WriteLine($"{label + ":",-15}{value}");
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>The human-readable lines as (label, value); exactly one line is labelled <c>cuda</c>.</summary>
    public static IEnumerable<(string Label, string Value)> Lines(TorchRuntimeReport report)
    {
        yield return ("torchsharp", $"{report.TorchSharpVersion} (built for libtorch {report.ExpectedLibTorchVersion ?? "?"})");
        yield return ("libtorch", $"{report.LoadedFrom ?? report.LibTorch.Directory}{(report.LibTorch.Version is null ? string.Empty : $" (version {report.LibTorch.Version})")}");
        yield return ("source", SourceText(report.LibTorch.Source));
        yield return ("libtorchsharp", report.LibTorchSharpPath ?? "?");
        yield return ("cuda", CudaText(report));
        foreach (var device in report.Devices.Devices)
        {
            yield return ($"cuda:{device.Index}", $"{device.Name}, {Gibibytes(device.TotalMemoryBytes)} GiB" +
                (device.ComputeCapability is null ? string.Empty : $", compute capability {device.ComputeCapability}"));
        }

        yield return ("device auto", AutoDevice(report));
        yield return ("bf16", $"{(report.Bf16Supported ? "yes" : "no")} ({report.Bf16Check})");
        yield return ("threads", report.Threads.ToString(CultureInfo.InvariantCulture));
        yield return ("tf32", $"matmul {OnOff(report.Tf32Matmul)}, cudnn {OnOff(report.Tf32Cudnn)}");
        yield return ("allocator", AllocatorText(report));
    }

    // What device: auto runs on for this report, by the one resolver the pipeline uses.
    private static string AutoDevice(TorchRuntimeReport report) => DeviceNames.Resolve(DeviceNames.Auto, () => report.CudaAvailable);

    private static string CudaText(TorchRuntimeReport report)
    {
        if (!report.CudaAvailable || report.CudaDeviceCount == 0)
        {
            return report.LibTorchHasCuda
                ? "no CUDA device (libtorch has CUDA, but no device is visible: check the driver and CUDA_VISIBLE_DEVICES)"
                : "no CUDA device (CPU-only libtorch)";
        }

        return $"{report.CudaDeviceCount} device(s), cuDNN {(report.CudnnAvailable ? "yes" : "no")}, details from {report.Devices.Source}";
    }

    private static string AllocatorText(TorchRuntimeReport report)
    {
        var glibc = report.GlibcTunables is null
            ? $"{NativeAllocatorSettings.VariableName} not set (recommended for CPU training: {NativeAllocatorSettings.RecommendedTunables})"
            : $"{NativeAllocatorSettings.VariableName}={report.GlibcTunables}{(report.RecommendedTunables ? " (recommended)" : string.Empty)}";
        return report.CudaAllocatorConfig is null ? glibc : $"{glibc}; PYTORCH_CUDA_ALLOC_CONF={report.CudaAllocatorConfig}";
    }

    private static object ToJson(TorchRuntimeReport report) => new
    {
        torchSharp = report.TorchSharpVersion,
        expectedLibTorch = report.ExpectedLibTorchVersion,
        libtorch = new
        {
            source = SourceName(report.LibTorch.Source),
            directory = report.LibTorch.Directory,
            loadedFrom = report.LoadedFrom,
            version = report.LibTorch.Version,
            libTorchSharp = report.LibTorchSharpPath,
            cuda = report.LibTorchHasCuda,
        },
        cuda = new
        {
            available = report.CudaAvailable,
            deviceCount = report.CudaDeviceCount,
            cudnn = report.CudnnAvailable,
            deviceInfoSource = report.Devices.Source,
            devices = report.Devices.Devices.Select(d => new { index = d.Index, name = d.Name, totalMemoryBytes = d.TotalMemoryBytes, computeCapability = d.ComputeCapability }),
        },
        autoDevice = AutoDevice(report),
        bf16 = new { supported = report.Bf16Supported, check = report.Bf16Check },
        threads = report.Threads,
        tf32 = new { matmul = report.Tf32Matmul, cudnn = report.Tf32Cudnn },
        allocator = new
        {
            glibcTunables = report.GlibcTunables,
            recommendedGlibcTunables = NativeAllocatorSettings.RecommendedTunables,
            usesRecommended = report.RecommendedTunables,
            pytorchCudaAllocConf = report.CudaAllocatorConfig,
        },
    };

    private static string SourceName(LibTorchSource source) => source switch
    {
        LibTorchSource.Environment => LibTorchLocation.VariableName,
        LibTorchSource.Python => "python",
        LibTorchSource.Package => "package",
        _ => "bundled",
    };

    private static string SourceText(LibTorchSource source) => source switch
    {
        LibTorchSource.Environment => $"{LibTorchLocation.VariableName} (a libtorch lib folder)",
        LibTorchSource.Python => $"python ({LibTorchLocation.VariableName}=python: the PyTorch that python3 imports)",
        LibTorchSource.Package => $"libtorch package in the NuGet cache, restored on first use by the .NET tool (set {LibTorchLocation.VariableName} to use another libtorch)",
        _ => $"bundled package (set {LibTorchLocation.VariableName} to use another libtorch)",
    };

    private static string OnOff(bool value) => value ? "on" : "off";

    private static string Gibibytes(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture);
}
