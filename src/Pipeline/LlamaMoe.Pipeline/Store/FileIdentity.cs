using System.Runtime.InteropServices;

namespace LlamaMoe.Pipeline.Store;

/// <summary>The inode of a file (Linux <c>stat</c>), used with size and mtime to memoise digests; 0 where unavailable.</summary>
internal static partial class FileIdentity
{
    private static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>The inode number, or 0.</summary>
    public static ulong Inode(string path)
    {
        if (unavailable)
        {
            return 0;
        }

        try
        {
            // struct stat on Linux x86_64 and aarch64 starts with st_dev (8 bytes) then st_ino (8 bytes).
            var buffer = new byte[256];
            return Stat(path, buffer) == 0 ? BitConverter.ToUInt64(buffer, 8) : 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
            return 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte[] buffer);
}
