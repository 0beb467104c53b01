using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LlamaMoe.Pipeline.Store;

/// <summary>
/// SHA-256 content digests of files and folders, memoised by (path, size, mtime, inode, ctime) in a JSON file so a no-op
/// run over multi-GB inputs does not re-hash them. A touched file is re-hashed once; its digest (and so every key) stays.
/// The ctime is part of the memo key because users cannot restore it: a file rewritten in place with its size and
/// mtime put back is still re-hashed.
/// </summary>
public sealed class FileDigests
{
    private readonly string? memoPath;
    private readonly Dictionary<string, Entry> memo;
    private bool dirty;

    /// <summary>Creates the digester, loading the memo from <paramref name="memoPath"/> when given and present.</summary>
    public FileDigests(string? memoPath)
    {
        this.memoPath = memoPath;
        memo = Load(memoPath);
    }

    /// <summary>How many files were actually hashed (not memo hits) by this instance.</summary>
    public int HashedFiles { get; private set; }

    /// <summary>The digest of a file, <c>sha256:HEX</c>.</summary>
    public string OfFile(string path)
    {
        var info = new FileInfo(path);
        var (inode, ctime) = FileIdentity.Stat(path);
        if (memo.TryGetValue(info.FullName, out var entry) && entry.Size == info.Length && entry.MtimeTicks == info.LastWriteTimeUtc.Ticks && entry.Inode == inode
            && entry.CtimeNanoseconds == ctime)
        {
            return entry.Digest;
        }

        var digest = HashFile(path);
        HashedFiles++;
        memo[info.FullName] = new Entry(info.Length, info.LastWriteTimeUtc.Ticks, inode, digest) { CtimeNanoseconds = ctime };
        dirty = true;
        return digest;
    }

    /// <summary>The digests of every file under a folder by relative path ('/' separators), excluding <paramref name="exclude"/>.</summary>
    public SortedDictionary<string, string> OfDirectoryFiles(string directory, string? exclude = null)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
            if (relative != exclude)
            {
                files[relative] = OfFile(file);
            }
        }

        return files;
    }

    /// <summary>The digest of a file, or of a folder (over its relative paths and file digests).</summary>
    public string OfPath(string path)
    {
        if (File.Exists(path))
        {
            return OfFile(path);
        }

        var builder = new StringBuilder("dir\n");
        foreach (var (relative, digest) in OfDirectoryFiles(path))
        {
            builder.Append(relative).Append(' ').Append(digest).Append('\n');
        }

        return OfText(builder.ToString());
    }

    /// <summary>The SHA-256 digest of a file's content, <c>sha256:HEX</c>, always read in full (no memo).</summary>
    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The digest of a text (UTF-8).</summary>
    public static string OfText(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Writes the memo back (atomically) when it changed.</summary>
    public void Save()
    {
        if (memoPath is null || !dirty)
        {
            return;
        }

        AtomicFile.WriteAllText(memoPath, JsonSerializer.Serialize(memo));
        dirty = false;
    }

    private static Dictionary<string, Entry> Load(string? path)
    {
        try
        {
            if (path is not null && File.Exists(path))
            {
                return JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(path)) ?? [];
            }
        }
        catch (JsonException)
        {
            // A damaged memo only costs re-hashing.
        }

        return new Dictionary<string, Entry>(StringComparer.Ordinal);
    }

    private sealed record Entry(long Size, long MtimeTicks, ulong Inode, string Digest)
    {
        /// <summary>The ctime when hashed (0 in memos written before it was recorded, so those entries are re-hashed once).</summary>
        public long CtimeNanoseconds { get; init; }
    }
}
