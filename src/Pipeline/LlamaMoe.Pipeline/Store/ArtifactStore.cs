using System.Text.Json;
using System.Text.RegularExpressions;
using LlamaMoe.Pipeline.Diagnostics;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// The content-addressed artifact store (default <c>.llamamoe/</c> beside the pipeline):
/// <c>objects/HEX/</c> published artifacts by content digest; <c>keys/KEY</c> stage key → digest;
/// <c>tmp/</c> folders stages write into (renamed into <c>objects/</c> when complete); <c>scratch/KEY/</c> private
/// resume folders that survive interrupted runs; <c>stamps/HEX.json</c> per object the size, mtime, ctime and inode of
/// each file when it was last verified and the object's generation; <c>digests.json</c> the file digest memo;
/// <c>store.lock</c>.
/// <para>
/// Every reuse is verified: the object's files must match its stamp (a stat per file, no reading), else every file is
/// re-hashed with SHA-256 against the manifest. A corrupt object is reported (<c>LMOE0075</c>), removed and so rebuilt.
/// A key file that is a link, names no well-formed digest, or whose object folder resolves outside the store is refused
/// (<c>LMOE0076</c>). A key also records the generation of each input object it was built from: an input object that
/// was replaced since (deleted or found corrupt, then rebuilt) makes the key stale.
/// </para>
/// </summary>
public sealed partial class ArtifactStore
{
    private readonly List<(string Code, string Message)> warnings = [];

    /// <summary>Opens (creating) a store.</summary>
    public ArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
        foreach (var folder in new[] { "objects", "keys", "tmp", "scratch", "stamps" })
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

    /// <summary>Coded warnings (code, message) found since the last call, such as a corrupt object; the list is emptied.</summary>
    public IReadOnlyList<(string Code, string Message)> TakeWarnings()
    {
        var taken = warnings.ToList();
        warnings.Clear();
        return taken;
    }

    /// <summary>
    /// The published digest for a stage key, when the key is recorded, its object is present and verified, and every
    /// input object it was built from is still the same generation; otherwise null (the stage reruns).
    /// </summary>
    /// <param name="key">The stage key.</param>
    /// <param name="repair">Remove an object found corrupt (false for read-only callers such as <c>plan</c>).</param>
    public string? Lookup(string key, bool repair = true)
    {
        var record = ReadKey(key);
        if (record is null || !VerifyObject(record.Value.Digest, full: false, repair))
        {
            return null;
        }

        foreach (var (input, generation) in record.Value.Inputs)
        {
            if (Generation(input) != generation)
            {
                return null;
            }
        }

        return record.Value.Digest;
    }

    /// <summary>True when the object folder with its manifest exists (and is a real folder inside the store).</summary>
    public bool HasObject(string digest) => IsDigest(digest) && InsideObjects(ObjectDirectory(digest)) && File.Exists(Path.Combine(ObjectDirectory(digest), ArtifactManifest.FileName));

    /// <summary>
    /// Checks an object against its manifest. <paramref name="full"/> false: sizes, mtimes, ctimes and inodes against
    /// the object's stamp, re-hashing every file only when they differ or there is no stamp; true: always re-hashes.
    /// A corrupt object is reported (<c>LMOE0075</c>) and, with <paramref name="repair"/>, deleted. Returns whether the
    /// object is present and intact.
    /// </summary>
    /// <param name="digest">The object's digest.</param>
    /// <param name="full">Re-hash every file even when the stamp matches.</param>
    /// <param name="repair">Delete a corrupt object (and refresh the stamp of an intact one).</param>
    public bool VerifyObject(string digest, bool full, bool repair = true)
    {
        if (!HasObject(digest))
        {
            return false;
        }

        var directory = ObjectDirectory(digest);
        var stampPath = StampPath(digest);
        var stamp = ReadStamp(stampPath);
        var now = StatFiles(directory);
        if (!full && stamp is not null && SameFiles(stamp.Files, now))
        {
            return true;
        }

        var problem = FindCorruption(digest, directory);
        if (problem is null)
        {
            if (!repair)
            {
                return true;
            }

            WriteStamp(stampPath, new ObjectStamp { Generation = stamp?.Generation ?? NewGeneration(), Files = now });
            return true;
        }

        if (!repair)
        {
            warnings.Add((DiagnosticCodes.StoreObjectCorrupt, $"store object {Hex(digest)[..16]} is corrupt ({problem}); the next run rebuilds it"));
            return false;
        }

        warnings.Add((DiagnosticCodes.StoreObjectCorrupt, $"store object {Hex(digest)[..16]} is corrupt ({problem}); it was removed and will be rebuilt"));
        DeleteObject(digest);
        return false;
    }

    /// <summary>The generation of an object (a fresh id each time its folder is published anew), or null when it has none.</summary>
    public string? Generation(string digest) => IsDigest(digest) ? ReadStamp(StampPath(digest))?.Generation : null;

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
    /// Publishes a sealed temp folder: renames it to <c>objects/HEX</c>, or drops it when an intact object of that
    /// content exists (fully re-hashed: a corrupt existing object is reported and replaced), records the key with the
    /// generations of <paramref name="inputDigests"/> and removes the stage's scratch folder. Returns the object folder.
    /// </summary>
    public string Publish(string tempDirectory, string key, string digest, IEnumerable<string>? inputDigests = null)
    {
        if (!IsDigest(digest))
        {
            throw new ArgumentException($"'{digest}' is not a sha256 digest", nameof(digest));
        }

        var target = ObjectDirectory(digest);
        if (VerifyObject(digest, full: true))
        {
            Directory.Delete(tempDirectory, recursive: true);
        }
        else
        {
            DeleteObject(digest);
            MakeReadOnly(tempDirectory);
            Directory.Move(tempDirectory, target);
            WriteStamp(StampPath(digest), new ObjectStamp { Generation = NewGeneration(), Files = StatFiles(target) });
        }

        var lines = new List<string> { digest };
        foreach (var input in (inputDigests ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            lines.Add($"input {input} {Generation(input) ?? "-"}");
        }

        var keyFile = Path.Combine(Root, "keys", Hex(key));
        AtomicFile.WriteAllText(keyFile, string.Join('\n', lines) + "\n");
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
                DeletePath(directory);
                removed++;
            }
        }

        foreach (var stamp in Directory.EnumerateFiles(Path.Combine(Root, "stamps")))
        {
            if (!live.Contains(Path.GetFileNameWithoutExtension(stamp)))
            {
                File.Delete(stamp);
            }
        }

        foreach (var keyFile in Directory.EnumerateFiles(Path.Combine(Root, "keys")))
        {
            var record = ReadKey(keyFile, isPath: true);
            if (record is null || !live.Contains(Hex(record.Value.Digest)))
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

    private static bool IsDigest(string digest) => DigestPattern().IsMatch(digest);

    private static string NewGeneration() => Guid.NewGuid().ToString("N");

    private static void DeletePath(string path)
    {
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null)
        {
            info.Delete();
        }
        else if (info.Exists)
        {
            info.Delete(recursive: true);
        }
    }

    private static SortedDictionary<string, FileStamp> StatFiles(string directory)
    {
        var files = new SortedDictionary<string, FileStamp>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            var (inode, ctime) = FileIdentity.Stat(file);
            files[Path.GetRelativePath(directory, file).Replace('\\', '/')] = new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks, ctime, inode);
        }

        return files;
    }

    private static bool SameFiles(SortedDictionary<string, FileStamp> before, SortedDictionary<string, FileStamp> now) =>
        before.Count == now.Count && before.All(p => now.TryGetValue(p.Key, out var other) && other == p.Value);

    private static ObjectStamp? ReadStamp(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ObjectStamp>(File.ReadAllText(path)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void WriteStamp(string path, ObjectStamp stamp) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(stamp));

    [GeneratedRegex("^sha256:[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    private string StampPath(string digest) => Path.Combine(Root, "stamps", Hex(digest) + ".json");

    private bool InsideObjects(string directory)
    {
        var info = new DirectoryInfo(directory);
        if (!info.Exists)
        {
            return false;
        }

        if (info.LinkTarget is not null)
        {
            warnings.Add((DiagnosticCodes.StoreEscape, $"store object folder {info.Name[..16]} is a link ({info.LinkTarget}); it is not followed"));
            return false;
        }

        return true;
    }

    private (string Digest, List<(string Input, string? Generation)> Inputs)? ReadKey(string key, bool isPath = false)
    {
        var keyFile = isPath ? key : Path.Combine(Root, "keys", Hex(key));
        var info = new FileInfo(keyFile);
        if (!info.Exists && info.LinkTarget is null)
        {
            return null;
        }

        if (info.LinkTarget is not null)
        {
            warnings.Add((DiagnosticCodes.StoreEscape, $"key file {info.Name[..Math.Min(16, info.Name.Length)]} is a link ({info.LinkTarget}); it is refused and the stage reruns"));
            return null;
        }

        var lines = File.ReadAllText(keyFile).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || !IsDigest(lines[0]))
        {
            warnings.Add((DiagnosticCodes.StoreEscape, $"key file {info.Name[..Math.Min(16, info.Name.Length)]} names no object of this store; it is refused and the stage reruns"));
            return null;
        }

        var inputs = new List<(string, string?)>();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || parts[0] != "input" || !IsDigest(parts[1]))
            {
                warnings.Add((DiagnosticCodes.StoreEscape, $"key file {info.Name[..Math.Min(16, info.Name.Length)]} has a malformed line; it is refused and the stage reruns"));
                return null;
            }

            inputs.Add((parts[1], parts[2] == "-" ? null : parts[2]));
        }

        return (lines[0], inputs);
    }

    private string? FindCorruption(string digest, string directory)
    {
        ArtifactManifest manifest;
        try
        {
            manifest = ArtifactManifest.Read(directory);
        }
        catch (LlamaMoeException)
        {
            return "its manifest cannot be read";
        }

        if (manifest.Digest != digest)
        {
            return "its manifest names another digest";
        }

        var present = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
            .Where(f => f != ArtifactManifest.FileName)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (relative, expected) in manifest.Files)
        {
            var path = Path.Combine(directory, relative);
            if (!present.Remove(relative))
            {
                return $"'{relative}' is missing";
            }

            if (new FileInfo(path).LinkTarget is not null)
            {
                return $"'{relative}' is a link";
            }

            if (FileDigests.HashFile(path) != expected)
            {
                return $"'{relative}' does not match its digest";
            }
        }

        return present.Count > 0 ? $"'{present.Order(StringComparer.Ordinal).First()}' is not in its manifest" : null;
    }

    private void DeleteObject(string digest)
    {
        var directory = ObjectDirectory(digest);
        if (Directory.Exists(directory) || new DirectoryInfo(directory).LinkTarget is not null)
        {
            DeletePath(directory);
        }

        var stamp = StampPath(digest);
        if (File.Exists(stamp))
        {
            File.Delete(stamp);
        }
    }

    private sealed record FileStamp(long Size, long MtimeTicks, long CtimeNanoseconds, ulong Inode);

    private sealed record ObjectStamp
    {
        public required string Generation { get; init; }

        public required SortedDictionary<string, FileStamp> Files { get; init; }
    }

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
