namespace LlamaMoe.Modeling;

/// <summary>
/// glibc malloc settings for tensor work on Linux. libtorch's CPU allocator takes every buffer from malloc; by default
/// glibc serves large buffers with fresh <c>mmap</c> pages and unmaps them on free, so a training step that allocates
/// the same activation buffers every iteration pays the first-touch cost again and again (0.27 GB/s with 4 KiB pages
/// on the development VM, see the platform notes). These settings back malloc with transparent huge pages, keep every
/// buffer in the heap (no per-buffer mmap) and do not return freed heap memory to the system, so steady-state steps
/// reuse warm pages. They only take effect when set in the environment before the process starts.
/// </summary>
public static class NativeAllocatorSettings
{
    /// <summary>The environment variable glibc reads its tunables from.</summary>
    public const string VariableName = "GLIBC_TUNABLES";

    /// <summary>The recommended value of <see cref="VariableName"/>: huge pages, no mmap'd buffers, no heap trimming.</summary>
    public const string RecommendedTunables =
        "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";

    /// <summary>Whether the current process was started with any glibc tunables (ours or the user's).</summary>
    public static bool IsConfigured => Environment.GetEnvironmentVariable(VariableName) is not null;
}
