namespace LlamaMoe.Modeling.Formats;

/// <summary>Publishes a directory atomically: it is written as a temporary sibling and renamed into place when complete.</summary>
public static class AtomicDirectory
{
    /// <summary>
    /// Calls <paramref name="write"/> with a fresh temporary sibling of <paramref name="directory"/>, then replaces
    /// <paramref name="directory"/> with it. On failure the temporary directory is removed and the target is untouched.
    /// </summary>
    public static void Publish(string directory, Action<string> write)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            string? old = null;
            if (Directory.Exists(full))
            {
                old = Path.Combine(parent, "." + Path.GetFileName(full) + ".old-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.Move(full, old);
            }

            Directory.Move(temp, full);
            if (old is not null)
            {
                Directory.Delete(old, recursive: true);
            }
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }
}
