namespace LlamaMoe.Modeling.Diagnostics;

/// <summary>
/// Process-level resident memory from <c>/proc/self/status</c> (Linux): current RSS (VmRSS) and peak RSS (VmHWM), with
/// the peak reset through <c>/proc/self/clear_refs</c> so a code section's own peak can be measured.
/// </summary>
public static class ProcessMemory
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

    /// <summary>Runs <paramref name="action"/> and returns its peak RSS above the RSS before it (bytes), after a full GC.</summary>
    public static long MeasurePeakIncrease(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (!TryResetPeak())
        {
            throw new InvalidOperationException("the kernel does not allow resetting the peak RSS (/proc/self/clear_refs)");
        }

        var before = CurrentBytes;
        action();
        return PeakBytes - before;
    }

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
