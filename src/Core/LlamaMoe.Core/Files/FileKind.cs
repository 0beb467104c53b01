using System.Runtime.InteropServices;

namespace LlamaMoe;

/// <summary>
/// Tells what a path is (regular file, directory, FIFO, socket, device) from <c>statx</c>, without opening it: opening a
/// FIFO blocks until a writer appears, and reading <c>/dev/zero</c> never ends, so every user-named input is checked here first.
/// </summary>
public static partial class FileKind
{
    /// <summary>LMOE0902: a FIFO, socket or device was named where a regular file is expected.</summary>
    public const string NotRegularCode = "LMOE0902";

    private const int TypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int DirectoryType = 0x4000;
    private static bool statxUnavailable = !OperatingSystem.IsLinux();

    /// <summary>
    /// Describes <paramref name="path"/> (following links) when it exists but is neither a regular file nor a directory,
    /// for example "a FIFO (named pipe)"; null for a regular file, a directory, a missing path, or where the type cannot be read.
    /// </summary>
    /// <param name="path">The path to look at.</param>
    public static string? DescribeSpecial(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return TypeBits(path) switch
        {
            null or RegularType or DirectoryType => null,
            0x1000 => "a FIFO (named pipe)",
            0xC000 => "a socket",
            0x2000 => "a character device",
            0x6000 => "a block device",
            _ => "not a regular file",
        };
    }

    /// <summary>
    /// Throws LMOE0902 when <paramref name="path"/> is a FIFO, socket or device (see <see cref="DescribeSpecial"/>);
    /// does nothing for a regular file, a directory or a missing path (callers report those with their own codes).
    /// </summary>
    /// <param name="path">The path to check.</param>
    /// <param name="key">The option or key that named the path, for the message.</param>
    public static void RefuseSpecial(string path, string? key = null)
    {
        if (DescribeSpecial(path) is { } kind)
        {
            throw new LlamaMoeException(NotRegularCode, $"the input is {kind}, not a regular file; it is not opened because reading it could block or never end", path, key,
                "Write the data to a regular file first and name that file.");
        }
    }

    /// <summary>The S_IFMT bits of the file (following links), or null where they cannot be read.</summary>
    private static int? TypeBits(string path)
    {
        if (statxUnavailable)
        {
            return null;
        }

        try
        {
            // struct statx has the same layout on every Linux architecture: stx_mode is a u16 at offset 28.
            // AT_FDCWD = -100, flags 0 (follow links), mask STATX_TYPE = 1.
            var buffer = new byte[256];
            return Statx(-100, path, 0, 1, buffer) == 0 ? BitConverter.ToUInt16(buffer, 28) & TypeMask : null;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            statxUnavailable = true;
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte[] buffer);
}
