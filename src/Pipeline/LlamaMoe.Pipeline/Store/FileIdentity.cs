using System.Runtime.InteropServices;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// The inode and status-change time of a file (Linux <c>stat</c>), used with size and mtime to memoise digests and to
/// stamp store objects; zeros where unavailable. The ctime cannot be set by users, so a file rewritten in place with
/// its size and mtime restored still shows a new ctime.
/// </summary>
internal static partial class FileIdentity
{
    private static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>The inode number, or 0.</summary>
    public static ulong Inode(string path) => Stat(path).Inode;

    /// <summary>The inode number and the ctime in nanoseconds since the epoch, or zeros.</summary>
    public static (ulong Inode, long CtimeNanoseconds) Stat(string path)
    {
        if (unavailable)
        {
            return (0, 0);
        }

        try
        {
            // struct stat on Linux x86_64 and aarch64: st_dev (8 bytes) then st_ino (8 bytes); st_ctim (tv_sec, tv_nsec) at 104.
            var buffer = new byte[256];
            if (NativeStat(path, buffer) != 0)
            {
                return (0, 0);
            }

            var ctime = (BitConverter.ToInt64(buffer, 104) * 1_000_000_000L) + BitConverter.ToInt64(buffer, 112);
            return (BitConverter.ToUInt64(buffer, 8), ctime);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
            return (0, 0);
        }
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeStat(string path, byte[] buffer);
}
