using LlamaMoe.Pipeline.Diagnostics;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// The content-addressed artifact store (default <c>.llamamoe/</c> beside the pipeline):
/// <c>objects/HEX/</c> published artifacts by content digest; <c>keys/KEY</c> stage key → digest;
/// <c>tmp/</c> folders stages write into (renamed into <c>objects/</c> when complete); <c>scratch/KEY/</c> private
/// resume folders that survive interrupted runs; <c>digests.json</c> the file digest memo; <c>store.lock</c>.
/// </summary>
public sealed class ArtifactStore
{
    /// <summary>Opens (creating) a store.</summary>
    public ArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
        foreach (var folder in new[] { "objects", "keys", "tmp", "scratch" })
        {
            Directory.CreateDirectory(Path.Combine(Root, folder));
        }
    }

    /// <summary>The store folder.</summary>
    public string Root { get; }

    /// <summary>The file digest memo path.</summary>
    public string DigestMemoPath => Path.Combine(Root, "digests.json");

    /// <summary>Takes the store's exclusive lock (released on dispose or process death) or throws <c>LMOE0070</c>.</summary>
    public IDisposable AcquireLock()
    {
        var path = Path.Combine(Root, "store.lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            stream.Write(pid);
            stream.Flush();
            return stream;
        }
        catch (IOException ex)
        {
            throw new LlamaMoeException(DiagnosticCodes.StoreLocked, "another llama-moe run is using this artifact store", Root,
                advice: "Wait for it to finish, or use --store to pick another store.", inner: ex);
        }
    }

    /// <summary>The object folder of a digest.</summary>
    public string ObjectDirectory(string digest) => Path.Combine(Root, "objects", Hex(digest));

    /// <summary>The published digest for a stage key, when the key is recorded and its object is present.</summary>
    public string? Lookup(string key)
    {
        var keyFile = Path.Combine(Root, "keys", Hex(key));
        if (!File.Exists(keyFile))
        {
            return null;
        }

        var digest = File.ReadAllText(keyFile).Trim();
        return HasObject(digest) ? digest : null;
    }

    /// <summary>True when the object folder with its manifest exists.</summary>
    public bool HasObject(string digest) => File.Exists(Path.Combine(ObjectDirectory(digest), ArtifactManifest.FileName));

    /// <summary>A fresh folder under <c>tmp/</c> for a stage to write into.</summary>
    public string CreateTempDirectory(string key)
    {
        var path = Path.Combine(Root, "tmp", $"{Hex(key)[..16]}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The stage's private resume folder (created; kept across interrupted runs).</summary>
    public string ScratchDirectory(string key)
    {
        var path = Path.Combine(Root, "scratch", Hex(key));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Publishes a sealed temp folder: renames it to <c>objects/HEX</c> (or drops it when that content exists),
    /// records the key and removes the stage's scratch folder. Returns the object folder.
    /// </summary>
    public string Publish(string tempDirectory, string key, string digest)
    {
        var target = ObjectDirectory(digest);
        if (HasObject(digest))
        {
            Directory.Delete(tempDirectory, recursive: true);
        }
        else
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            MakeReadOnly(tempDirectory);
            Directory.Move(tempDirectory, target);
        }

        AtomicFile.WriteAllText(Path.Combine(Root, "keys", Hex(key)), digest);
        var scratch = Path.Combine(Root, "scratch", Hex(key));
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        return target;
    }

    /// <summary>Removes leftovers of interrupted runs in <c>tmp/</c> (call while holding the lock).</summary>
    public void CleanTemp()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(Root, "tmp")))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Deletes objects and keys not in <paramref name="liveDigests"/>, and all temp and scratch folders; returns the number of objects removed.</summary>
    public int CollectGarbage(IReadOnlySet<string> liveDigests)
    {
        CleanTemp();
        var live = liveDigests.Select(Hex).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(Root, "objects")))
        {
            if (!live.Contains(Path.GetFileName(directory)))
            {
                Directory.Delete(directory, recursive: true);
                removed++;
            }
        }

        foreach (var keyFile in Directory.EnumerateFiles(Path.Combine(Root, "keys")))
        {
            if (!live.Contains(Hex(File.ReadAllText(keyFile).Trim())))
            {
                File.Delete(keyFile);
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(Root, "scratch")))
        {
            Directory.Delete(directory, recursive: true);
        }

        return removed;
    }

    private static string Hex(string digest) => digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest[7..] : digest;

    private static void MakeReadOnly(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }
}
