using System.Runtime.InteropServices;

namespace LlamaMoe.Modeling.Diagnostics;

/// <summary>
/// Process-level resident memory from <c>/proc/self/status</c> (Linux): current RSS (VmRSS) and peak RSS (VmHWM), with
/// the peak reset through <c>/proc/self/clear_refs</c> so a code section's own peak can be measured.
/// </summary>
public static partial class ProcessMemory
{
    /// <summary>Whether /proc/self/status is readable (Linux).</summary>
    public static bool IsSupported => File.Exists("/proc/self/status");

    /// <summary>Current resident set size in bytes.</summary>
    public static long CurrentBytes => Read("VmRSS:");

    /// <summary>Peak resident set size in bytes since start or the last <see cref="TryResetPeak"/>.</summary>
    public static long PeakBytes => Read("VmHWM:");

    /// <summary>Resets the peak to the current RSS (writes 5 to /proc/self/clear_refs); false when the kernel refuses.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> and returns its peak RSS above the RSS before it (bytes), after a full GC and after
    /// glibc's free heap pages are handed back (<c>malloc_trim</c>), so memory freed by earlier work (kept resident by the
    /// benchmark's <c>trim_threshold</c>/<c>mmap_max</c> tunables) cannot hide the section's own allocations.
    /// </summary>
    public static long MeasurePeakIncrease(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TryReleaseFreeHeap();
        if (!TryResetPeak())
        {
            throw new InvalidOperationException("the kernel does not allow resetting the peak RSS (/proc/self/clear_refs)");
        }

        var before = CurrentBytes;
        action();
        return PeakBytes - before;
    }

    /// <summary>Returns glibc's free heap pages to the kernel (<c>malloc_trim(0)</c>); false where glibc is not available.</summary>
    public static bool TryReleaseFreeHeap()
    {
        try
        {
            return MallocTrim(0) == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static long Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {key}");
    }
}
