using System.Runtime.InteropServices;
using TorchSharp;

namespace LlamaMoe.Modeling;

/// <summary>
/// Makes TorchSharp run on the libtorch in a given folder instead of the bundled package, before TorchSharp loads
/// anything. The libraries are loaded by absolute path in dependency order, so that the dynamic loader matches the
/// <c>DT_NEEDED</c> entries of <c>libLibTorchSharp.so</c> (<c>libtorch.so</c>, <c>libc10.so</c>,
/// <c>libtorch_cpu.so</c>) to them by soname. The application's own (GLIBCXX-patched) <c>libLibTorchSharp.so</c> is
/// then bound eagerly (<c>RTLD_NOW</c>), so a libtorch whose symbols do not match TorchSharp's fails here with one
/// clear message instead of aborting the process at the first call.
/// </summary>
/// <remarks>
/// TorchSharp's own loader (run by its static constructor) calls <c>NativeLibrary.TryLoad("torch_cpu", assembly)</c>
/// (and <c>"torch_cuda"</c> for CUDA), which probes the application's native folders before the bare name and consults
/// no <see cref="DllImportResolver"/>. With our libraries preloaded, the bare name resolves to them by soname; but a
/// different <c>libtorch_cpu.so</c> or <c>libtorch_cuda.so</c> left in the application folder would be loaded as a
/// second copy, which aborts the process ("Tried to register multiple backend fallbacks"). So such a file is refused
/// beforehand with LMOE1006; a file that is the same inode (a hard link, as in a build output) is harmless.
/// </remarks>
internal static class LibTorchPreloader
{
    /// <summary>Load order: each library's libtorch dependencies come before it.</summary>
    private static readonly string[] LoadOrder = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>Preloads the libraries of <paramref name="location"/>; throws <see cref="TorchUnavailableException"/> (LMOE1001, LMOE1005, LMOE1006) on failure.</summary>
    public static void Load(LibTorchLocation location)
    {
        var libTorchSharp = FindLibTorchSharp();
        RefuseConflictingCopies(location);
        foreach (var file in LoadOrder)
        {
            var path = Path.Combine(location.Directory, file);
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                NativeLibrary.Load(path);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                throw new TorchUnavailableException(TorchErrorCodes.PreloadFailed,
                    $"{LibTorchLocation.VariableName}: '{path}' could not be loaded: {ex.Message} " +
                    (file.Contains("cuda", StringComparison.Ordinal)
                        ? "The CUDA libraries it needs (libcudart, cuBLAS, cuDNN, from the nvidia-* pip packages or a CUDA install) must be findable from that folder."
                        : "A library it needs is missing, or it was built for another system."), ex);
            }
        }

        BindEagerly(libTorchSharp, location);
    }

    /// <summary>The application's <c>libLibTorchSharp.so</c>: in the native search folders of the app, beside TorchSharp.dll, or under <c>runtimes/linux-x64/native</c>.</summary>
    public static string FindLibTorchSharp() =>
        NativeSearchFolders().Select(f => Path.Combine(f, "libLibTorchSharp.so")).FirstOrDefault(File.Exists)
            ?? throw new TorchUnavailableException(TorchErrorCodes.NotLoadable,
                $"the application's libLibTorchSharp.so was not found (looked in the native search folders and {AppContext.BaseDirectory}). " +
                "Keep libLibTorchSharp.so in the application folder when removing the bundled libtorch files.");

    /// <summary>Where .NET probes for the application's native libraries (from its deps.json), then the TorchSharp and application folders.</summary>
    internal static IEnumerable<string> NativeSearchFolders() =>
        ((AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string) ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory)
            .Append(AppContext.BaseDirectory)
            .Append(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"))
            .Select(Path.GetFullPath)
            .Distinct(StringComparer.Ordinal);

    private static void BindEagerly(string libTorchSharp, LibTorchLocation location)
    {
        if (Libc.DlOpenNow(libTorchSharp) is { } reason)
        {
            throw new TorchUnavailableException(TorchErrorCodes.PreloadFailed,
                $"{LibTorchLocation.VariableName}: TorchSharp's libLibTorchSharp.so does not bind to the libtorch in '{location.Directory}'" +
                $"{(location.Version is null ? string.Empty : $" (version {location.Version})")}: {reason}. TorchSharp 0.107 expects libtorch 2.10-compatible " +
                "libraries; PyTorch 2.11 was verified to work. Use such a PyTorch, or unset the variable to use the bundled libtorch.");
        }
    }

    private static void RefuseConflictingCopies(LibTorchLocation location)
    {
        foreach (var file in new[] { "libtorch_cpu.so", "libtorch_cuda.so" })
        {
            var bundled = NativeSearchFolders().Select(f => Path.Combine(f, file)).Where(File.Exists);
            var chosen = Path.Combine(location.Directory, file);
            foreach (var copy in bundled)
            {
                if (!File.Exists(chosen) || !SameFile(copy, chosen))
                {
                    throw new TorchUnavailableException(TorchErrorCodes.SecondLibTorch,
                        $"{LibTorchLocation.VariableName} points at '{location.Directory}', but the application folder still holds the bundled '{copy}', which TorchSharp " +
                        "would load as a second libtorch beside it. Delete the bundled libtorch files (libtorch*.so, libc10*.so, libgomp-*.so.1, libshm.so) from " +
                        $"'{Path.GetDirectoryName(copy)}' (keep libLibTorchSharp.so), as a GPU publish does (see the README, \"GPU (CUDA)\"), or unset {LibTorchLocation.VariableName}.");
                }
            }
        }
    }

    private static bool SameFile(string a, string b) => Libc.Identity(a) is { } x && Libc.Identity(b) is { } y && x == y;
}
