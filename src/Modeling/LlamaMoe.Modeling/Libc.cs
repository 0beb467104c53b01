using System.Runtime.InteropServices;

namespace LlamaMoe.Modeling;

/// <summary>
/// The few glibc calls the libtorch loader needs and .NET does not offer: <c>dlopen</c> with <c>RTLD_NOW</c> (to
/// find unresolved symbols at load time, not at the first call) and <c>stat</c> (to tell hard links of one file
/// from copies). Bound at run time from <c>libc.so.6</c> (or <c>libdl.so.2</c> on glibc before 2.34).
/// </summary>
internal static class Libc
{
    private const int RtldNow = 2;
    private const int StatBufferSize = 256;
    private static readonly Lazy<Functions?> Bound = new(Bind);

    private delegate IntPtr DlOpenFunction(IntPtr file, int mode);

    private delegate IntPtr DlErrorFunction();

    private delegate int StatFunction(IntPtr path, IntPtr buffer);

    /// <summary>Loads <paramref name="path"/> binding every symbol now; returns null on success, else the loader's message.</summary>
    public static string? DlOpenNow(string path)
    {
        var functions = Bound.Value ?? throw new TorchUnavailableException(TorchErrorCodes.PreloadFailed, "loading another libtorch needs dlopen from libc.so.6 or libdl.so.2 (Linux with glibc); neither was found.");
        var name = Marshal.StringToCoTaskMemUTF8(path);
        try
        {
            return functions.DlOpen(name, RtldNow) != IntPtr.Zero ? null : Marshal.PtrToStringUTF8(functions.DlError()) ?? "unknown dlopen error";
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>The (device, inode) of a file, or null when <c>stat</c> is unavailable or fails.</summary>
    public static (ulong Device, ulong Inode)? Identity(string path)
    {
        if (Bound.Value?.Stat is not { } stat)
        {
            return null;
        }

        var name = Marshal.StringToCoTaskMemUTF8(path);
        var buffer = Marshal.AllocHGlobal(StatBufferSize);
        try
        {
            // struct stat on Linux x86_64 and aarch64 starts with st_dev (8 bytes) then st_ino (8 bytes).
            return stat(name, buffer) == 0 ? ((ulong)Marshal.ReadInt64(buffer, 0), (ulong)Marshal.ReadInt64(buffer, 8)) : null;
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
            Marshal.FreeCoTaskMem(name);
        }
    }

    private static Functions? Bind()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc))
        {
            return null;
        }

        var stat = NativeLibrary.TryGetExport(libc, "stat", out var statAddress) ? Marshal.GetDelegateForFunctionPointer<StatFunction>(statAddress) : null;
        foreach (var handle in new[] { libc, NativeLibrary.TryLoad("libdl.so.2", out var libdl) ? libdl : IntPtr.Zero })
        {
            if (handle != IntPtr.Zero && NativeLibrary.TryGetExport(handle, "dlopen", out var open) && NativeLibrary.TryGetExport(handle, "dlerror", out var error))
            {
                return new Functions(Marshal.GetDelegateForFunctionPointer<DlOpenFunction>(open), Marshal.GetDelegateForFunctionPointer<DlErrorFunction>(error), stat);
            }
        }

        return null;
    }

    private sealed record Functions(DlOpenFunction DlOpen, DlErrorFunction DlError, StatFunction? Stat);
}
