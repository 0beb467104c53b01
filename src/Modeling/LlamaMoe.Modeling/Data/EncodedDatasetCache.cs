using System.Security.Cryptography;
using System.Text;

namespace LlamaMoe.Modeling.Data;

/// <summary>Encoded examples of one source and where they came from.</summary>
/// <param name="Examples">The encoded examples, in file order.</param>
/// <param name="CacheKey">The SHA-256 key (hex) of source bytes, format, encoder id and options.</param>
/// <param name="FromCache">Whether the examples were read from the cache rather than encoded.</param>
public sealed record EncodedSource(IReadOnlyList<EncodedExample> Examples, string CacheKey, bool FromCache);

/// <summary>
/// Encodes a data source once and caches the result in a binary file named by SHA-256 over the source file's bytes,
/// its format, the encoder's <see cref="IExampleEncoder.Id"/> and a caller-supplied options string. The file is
/// written to a temporary name and renamed into place, so a crash never leaves a half-written cache entry; an
/// unreadable entry is treated as a miss and rewritten.
/// </summary>
public static class EncodedDatasetCache
{
    private static readonly byte[] Magic = "LMDS0001"u8.ToArray();

    /// <summary>Computes the cache key of a source.</summary>
    public static string Key(DataSourceSpec source, IExampleEncoder encoder, string options)
    {
        if (!File.Exists(source.Path))
        {
            throw DataErrors.FileNotFound(source.Path);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = File.OpenRead(source.Path))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        hash.AppendData(Encoding.UTF8.GetBytes($"\0format={source.Format}\0encoder={encoder.Id}\0options={options}\0v1"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Returns the cached encoding of <paramref name="source"/>, encoding and caching it on a miss.</summary>
    /// <param name="source">The data source.</param>
    /// <param name="encoder">The tokenizer + template layer.</param>
    /// <param name="cacheDirectory">The cache folder (created when missing), or null to encode without caching.</param>
    /// <param name="options">Any further setting that changes the encoding (part of the key).</param>
    public static EncodedSource LoadOrEncode(DataSourceSpec source, IExampleEncoder encoder, string? cacheDirectory, string options = "")
    {
        var key = Key(source, encoder, options);
        var path = cacheDirectory is null ? null : Path.Combine(cacheDirectory, key + ".lmds");
        if (path is not null && TryRead(path) is { } cached)
        {
            return new EncodedSource(cached, key, FromCache: true);
        }

        var examples = DataSourceReader.Read(source).Select(encoder.Encode).ToList();
        if (path is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            Write(path, examples);
        }

        return new EncodedSource(examples, key, FromCache: false);
    }

    /// <summary>Writes examples atomically (temporary file, then rename).</summary>
    public static void Write(string path, IReadOnlyList<EncodedExample> examples)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(examples.Count);
            foreach (var example in examples)
            {
                writer.Write(example.Length);
                foreach (var id in example.Ids)
                {
                    writer.Write(id);
                }

                foreach (var target in example.LossMask)
                {
                    writer.Write(target);
                }
            }

            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a cache file; returns null when it is missing or not a complete, valid cache file.</summary>
    public static IReadOnlyList<EncodedExample>? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                return null;
            }

            var count = reader.ReadInt32();
            var examples = new List<EncodedExample>(Math.Clamp(count, 0, 1 << 20));
            for (var i = 0; i < count; i++)
            {
                var length = reader.ReadInt32();
                if (length < 0 || length > stream.Length - stream.Position)
                {
                    return null;
                }

                var ids = new int[length];
                for (var j = 0; j < length; j++)
                {
                    ids[j] = reader.ReadInt32();
                }

                var mask = new bool[length];
                for (var j = 0; j < length; j++)
                {
                    mask[j] = reader.ReadBoolean();
                }

                examples.Add(new EncodedExample(ids, mask));
            }

            return stream.Position == stream.Length ? examples : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }
}
