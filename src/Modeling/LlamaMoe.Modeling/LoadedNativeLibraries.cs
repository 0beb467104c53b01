namespace LlamaMoe.Modeling;

/// <summary>
/// The shared libraries mapped into this process, read from <c>/proc/self/maps</c> (Linux). Tells which file a
/// library actually came from after the dynamic loader resolved it, and whether two copies of one library are loaded.
/// </summary>
public static class LoadedNativeLibraries
{
    private const string MapsPath = "/proc/self/maps";

    /// <summary>The distinct absolute paths of mapped files whose file name is <paramref name="fileName"/> (empty when none or not Linux).</summary>
    public static IReadOnlyList<string> PathsOf(string fileName) =>
        All().Where(p => string.Equals(Path.GetFileName(p), fileName, StringComparison.Ordinal)).ToList();

    /// <summary>The single mapped path of <paramref name="fileName"/>, or null when it is not loaded.</summary>
    public static string? PathOf(string fileName) => PathsOf(fileName).FirstOrDefault();

    /// <summary>Every distinct mapped file path, in first-mapped order.</summary>
    public static IReadOnlyList<string> All()
    {
        if (!File.Exists(MapsPath))
        {
            return [];
        }

        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(MapsPath))
        {
            // address perms offset dev inode pathname; the path starts at the first '/' after the inode column.
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }

            var path = line[slash..];
            if (path.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                path = path[..^" (deleted)".Length];
            }

            if (seen.Add(path))
            {
                paths.Add(path);
            }
        }

        return paths;
    }
}
