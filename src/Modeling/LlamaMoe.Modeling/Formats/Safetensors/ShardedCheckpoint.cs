using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>
/// The safetensors weights of a model directory: a single <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c>. Shard paths must stay inside the directory (LMOE1109).
/// </summary>
public sealed class ShardedCheckpoint : IDisposable
{
    /// <summary>The single-file weights name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };
    private readonly List<SafetensorsFile> files = [];
    private readonly Dictionary<string, SafetensorsFile> owner = new(StringComparer.Ordinal);

    private ShardedCheckpoint()
    {
    }

    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyList<string> Names => owner.Keys.ToList();

    /// <summary>The header entry of a tensor.</summary>
    public SafetensorsTensorInfo Info(string name) =>
        owner.TryGetValue(name, out var file) ? file.Tensors[name] : throw NotFound(name);

    /// <summary>Whether the checkpoint holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => owner.ContainsKey(name);

    /// <summary>Reads one tensor.</summary>
    public Tensor Read(string name, Device? device = null) =>
        owner.TryGetValue(name, out var file) ? file.Read(name, device) : throw NotFound(name);

    /// <summary>Opens the weights of <paramref name="directory"/>.</summary>
    public static ShardedCheckpoint Open(string directory)
    {
        var checkpoint = new ShardedCheckpoint();
        try
        {
            var index = Path.Combine(directory, IndexFileName);
            var single = Path.Combine(directory, SingleFileName);
            if (File.Exists(index))
            {
                checkpoint.OpenIndex(directory, index);
            }
            else if (File.Exists(single))
            {
                checkpoint.Add(SafetensorsFile.Open(single), null);
            }
            else
            {
                throw new LlamaMoeException(FormatErrorCodes.NoWeights, "the model directory has neither model.safetensors nor model.safetensors.index.json", directory,
                    advice: "Import the model first (llama-moe import) or point to a Hugging Face model directory.");
            }

            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Resolves a shard file name from an index, refusing any path that leaves <paramref name="directory"/>.</summary>
    public static string ResolveShardPath(string directory, string shard, string indexPath)
    {
        var root = Path.GetFullPath(directory);
        if (shard.Length == 0 || Path.IsPathRooted(shard) || shard.Contains('\\', StringComparison.Ordinal) || shard.Contains('\0', StringComparison.Ordinal))
        {
            throw Escapes(shard, indexPath);
        }

        var full = Path.GetFullPath(Path.Combine(root, shard));
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
        {
            throw Escapes(shard, indexPath);
        }

        // Symbolic links are followed to their final target, and that target must stay inside the (resolved) model directory too.
        var realRoot = RealPath(root, indexPath, shard);
        var realRootWithSeparator = realRoot.EndsWith(Path.DirectorySeparatorChar) ? realRoot : realRoot + Path.DirectorySeparatorChar;
        var real = RealPath(full, indexPath, shard);
        if (!real.StartsWith(realRootWithSeparator, StringComparison.Ordinal))
        {
            throw new LlamaMoeException(FormatErrorCodes.ShardPathEscapes, $"shard '{NameCheck.Escape(shard)}' is a symbolic link to '{real}', outside the model directory", indexPath, NameCheck.Escape(shard),
                "Copy the shard into the model directory instead of linking to it.");
        }

        return full;
    }

    /// <summary>Resolves every symbolic link along <paramref name="fullPath"/> (like realpath(3)); missing trailing parts are kept as written.</summary>
    private static string RealPath(string fullPath, string indexPath, string shard)
    {
        var pending = new Stack<string>(fullPath.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = Path.GetPathRoot(fullPath) ?? Path.DirectorySeparatorChar.ToString();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var candidate = Path.Combine(current, part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                current = candidate;
                continue;
            }

            if (++links > 40)
            {
                throw Escapes(shard, indexPath);
            }

            var resolved = Path.GetFullPath(target, current);
            foreach (var item in resolved.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(item);
            }

            current = Path.GetPathRoot(resolved) ?? Path.DirectorySeparatorChar.ToString();
        }

        return current;
    }

    private void OpenIndex(string directory, string indexPath)
    {
        JsonObject weightMap;
        long? totalSize;
        if (new FileInfo(indexPath).Length > SafetensorsHeaderParser.MaxHeaderBytes)
        {
            throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, $"the shard index is larger than {SafetensorsHeaderParser.MaxHeaderBytes} bytes", indexPath,
                advice: "Regenerate the index; a real one is a few hundred kilobytes.");
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(indexPath), documentOptions: Strict) as JsonObject;
            weightMap = root?["weight_map"] as JsonObject ?? throw new JsonException("no weight_map object");
            totalSize = root!["metadata"] is JsonObject meta && meta["total_size"] is { } total
                ? total is JsonValue tv && tv.GetValueKind() == JsonValueKind.Number && tv.TryGetValue<long>(out var t) && t >= 0 ? t
                    : throw new JsonException("metadata.total_size is not a non-negative integer")
                : null;
        }
        catch (JsonException ex)
        {
            throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, "the shard index is malformed: " + ex.Message, indexPath, advice: "Regenerate the index.", inner: ex);
        }

        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tensor, node) in weightMap)
        {
            NameCheck.Require(tensor, "weight_map tensor name", indexPath);
            var shard = node is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, "weight_map values must be file names", indexPath, tensor);
            var full = ResolveShardPath(directory, shard, indexPath);
            expected[tensor] = full;
            if (!shards.ContainsKey(full))
            {
                if (!File.Exists(full))
                {
                    throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, $"the index names the missing shard '{NameCheck.Escape(shard)}'", indexPath, tensor);
                }

                var file = SafetensorsFile.Open(full);
                shards[full] = file;
                Add(file, indexPath);
            }
        }

        foreach (var (tensor, full) in expected)
        {
            if (!owner.TryGetValue(tensor, out var file) || file.Path != full)
            {
                throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, $"the index puts '{tensor}' in {Path.GetFileName(full)}, but that shard does not hold it", indexPath, tensor);
            }
        }

        if (owner.Count != expected.Count)
        {
            var extra = owner.Keys.First(k => !expected.ContainsKey(k));
            throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, $"shard tensor '{extra}' is not listed in the index", indexPath, extra);
        }

        var actual = files.Sum(f => f.Tensors.Values.Sum(t => t.ByteCount));
        if (totalSize is { } declared && declared != actual)
        {
            throw new LlamaMoeException(FormatErrorCodes.ShardIndexInvalid, $"metadata.total_size is {declared} but the shards hold {actual} bytes of tensor data", indexPath, "metadata.total_size",
                "Regenerate the index; a wrong total size means the index does not describe these shards.");
        }
    }

    private void Add(SafetensorsFile file, string? indexPath)
    {
        files.Add(file);
        foreach (var name in file.Tensors.Keys)
        {
            if (!owner.TryAdd(name, file))
            {
                throw new LlamaMoeException(FormatErrorCodes.TensorNotFound, $"tensor '{name}' appears in more than one shard", indexPath ?? file.Path, name);
            }
        }
    }

    private static LlamaMoeException NotFound(string name) =>
        new(FormatErrorCodes.TensorNotFound, $"tensor '{name}' is not in the checkpoint", key: name);

    private static LlamaMoeException Escapes(string shard, string indexPath) =>
        new(FormatErrorCodes.ShardPathEscapes, $"shard path '{NameCheck.Escape(shard)}' leaves the model directory", indexPath, NameCheck.Escape(shard),
            "Shard names must be plain file names inside the model directory.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var file in files)
        {
            file.Dispose();
        }
    }
}
