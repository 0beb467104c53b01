using System.Reflection;
using TorchSharp;

namespace LlamaMoe.Modeling;

/// <summary>
/// Loads the native libtorch runtime once and turns a load failure into one clear sentence. By default TorchSharp
/// loads the libtorch package copied beside the application; when <c>LLAMAMOE_LIBTORCH</c> is set (a libtorch
/// <c>lib</c> folder, or <c>python</c>) that libtorch is loaded instead, with its CUDA part when it has one. An
/// application shipped without libtorch (the .NET tool) loads the libtorch package from the NuGet cache, restoring it on
/// first use (<see cref="LibTorchPackageCache"/>).
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool loaded;
    private static TorchUnavailableException? failure;

    /// <summary>The libtorch in use; null until <see cref="EnsureLoaded"/> succeeded.</summary>
    public static LibTorchLocation? Location { get; private set; }

    /// <summary>The path the native TorchSharp library was loaded from, or null before loading (or off Linux).</summary>
    public static string? LibTorchSharpPath => LoadedNativeLibraries.PathOf("libLibTorchSharp.so");

    /// <summary>The libtorch version TorchSharp was built against (the bundled package's version), such as <c>2.10.0</c>.</summary>
    public static string? ExpectedLibTorchVersion =>
        typeof(torch).GetField("libtorchPackageVersion", BindingFlags.Static | BindingFlags.NonPublic)?.GetValue(null) is string version
            ? (version.EndsWith(".0.0", StringComparison.Ordinal) && version.Count(c => c == '.') == 3 ? version[..^2] : version)
            : null;

    /// <summary>Ensures libtorch is loaded; throws <see cref="TorchUnavailableException"/> with advice when it cannot be.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded)
            {
                return;
            }

            if (failure is not null)
            {
                throw failure;
            }

            try
            {
                var setting = Environment.GetEnvironmentVariable(LibTorchLocation.VariableName);
                Location = !string.IsNullOrWhiteSpace(setting) ? LoadFrom(LibTorchLocation.Resolve(setting))
                    : LibTorchPackageCache.ApplicationHasBundledLibTorch || !OperatingSystem.IsLinux() ? LoadBundled()
                    : LoadFrom(LibTorchPackageCache.Locate(Console.Error));
                loaded = true;
            }
            catch (TorchUnavailableException ex)
            {
                failure = ex;
                throw;
            }
            catch (Exception ex) when (ex is NotSupportedException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
            {
                failure = new TorchUnavailableException(TorchErrorCodes.NotLoadable,
                    "the native TorchSharp library (libLibTorchSharp.so) could not be loaded: " + Innermost(ex).Message +
                    " Rebuild with 'dotnet build' so the GLIBCXX workaround in build/LibTorchSharp.Glibcxx.targets is applied to the output, " +
                    $"install a libstdc++ that provides GLIBCXX_3.4.32, or point {LibTorchLocation.VariableName} at an installed libtorch (see 'llama-moe doctor').",
                    ex);
                throw failure;
            }
        }
    }

    private static LibTorchLocation LoadBundled()
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        var directory = Path.GetDirectoryName(LoadedNativeLibraries.PathOf("libtorch_cpu.so")) ?? AppContext.BaseDirectory;
        return new LibTorchLocation(directory, LibTorchSource.Bundled, ExpectedLibTorchVersion);
    }

    private static LibTorchLocation LoadFrom(LibTorchLocation location)
    {
        LibTorchPreloader.Load(location);
        torch.InitializeDeviceType(DeviceType.CPU);
        if (location.HasCuda)
        {
            torch.TryInitializeDeviceType(DeviceType.CUDA);
        }

        var copies = LoadedNativeLibraries.PathsOf("libtorch_cpu.so");
        if (copies.Count > 1)
        {
            throw new TorchUnavailableException(TorchErrorCodes.SecondLibTorch,
                $"two copies of libtorch_cpu.so are loaded ({string.Join(", ", copies)}). " +
                $"Delete the bundled libtorch files (libtorch*.so, libc10*.so) from the application folder when using {LibTorchLocation.VariableName}.");
        }

        return location;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}

/// <summary>Raised when the native TorchSharp runtime cannot be loaded on this machine (the CLI exits with code 3).</summary>
public sealed class TorchUnavailableException : Exception
{
    /// <summary>Creates the exception with a stable code (LMOE1001–LMOE1006) and a message that says what to do.</summary>
    public TorchUnavailableException(string code, string message, Exception? inner = null) : base($"{code}: {message}", inner)
    {
        Code = code;
    }

    /// <summary>The stable error code, such as <c>LMOE1002</c>.</summary>
    public string Code { get; }
}
