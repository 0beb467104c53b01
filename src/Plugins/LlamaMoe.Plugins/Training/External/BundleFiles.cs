using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Paths, JSON conventions and digests of a job bundle (contract: <c>bundle-&lt;key12&gt;/</c> with BUNDLE.json listing the
/// sha256 of every other file). A bundle is read-only once written: <see cref="Verify"/> refuses a changed one (LMOE3405).
/// </summary>
public static class BundleFiles
{
    /// <summary>The manifest file at the bundle root.</summary>
    public const string ManifestName = "BUNDLE.json";

    /// <summary>The bundle schema version.</summary>
    public const int Schema = 1;

    /// <summary>The generator name written into BUNDLE.json and the launch files.</summary>
    public const string Generator = "llama-moe job bundle v1";

    /// <summary>Indented JSON with '\n' line ends.</summary>
    public static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The text of a JSON node as written into the bundle (indented, trailing newline).</summary>
    public static string Json(JsonNode node) => node.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    /// <summary>Writes <paramref name="text"/> as UTF-8 without BOM, creating folders.</summary>
    /// <remarks>
    /// Job files pass secrets by reference, never by value: a text that holds the value of a secret (an environment variable
    /// whose name looks secret, or <c>${secret:NAME}</c>) is refused with LMOE3420 before anything is written.
    /// </remarks>
    public static void WriteText(string path, string text)
    {
        if (SecretValues.AppearsIn(text))
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.SecretInJobFile,
                $"the job file '{Path.GetFileName(path)}' would hold the value of a secret (an environment variable whose name looks secret, or ${{secret:NAME}}); job files pass secrets by reference only",
                path, "executor",
                "Remove the secret from the stage's options. The trainer inherits the environment of the launch (local torchrun and sbatch pass it on), so let it read the variable itself; on Kubernetes add the variable to the job's env from a Secret (secretKeyRef).");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal), new UTF8Encoding(false));
    }

    /// <summary>Lower-case hex sha256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Lower-case hex sha256 of a text (UTF-8).</summary>
    public static string Sha256Text(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The sha256 of every file under <paramref name="root"/> (relative '/' paths, ordinal order), except <paramref name="skip"/>.</summary>
    public static SortedDictionary<string, string> Digests(string root, string? skip = ManifestName)
    {
        var digests = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative != skip)
            {
                digests[relative] = Sha256(file);
            }
        }

        return digests;
    }

    /// <summary>One digest over a sorted (path, sha256) list: what names a folder's content.</summary>
    public static string TreeDigest(IEnumerable<KeyValuePair<string, string>> digests) =>
        Sha256Text(string.Concat(digests.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}\t{p.Value}\n")));

    /// <summary>Writes BUNDLE.json over every file of the bundle.</summary>
    public static void WriteManifest(string root, string stageKey, IReadOnlyDictionary<string, string> pins)
    {
        var files = new JsonObject();
        foreach (var (path, digest) in Digests(root))
        {
            files[path] = digest;
        }

        var pinsNode = new JsonObject();
        foreach (var (name, specifier) in pins.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            pinsNode[name] = specifier;
        }

        WriteText(Path.Combine(root, ManifestName), Json(new JsonObject
        {
            ["schema"] = Schema,
            ["stage_key"] = stageKey,
            ["generator"] = Generator,
            ["pins"] = pinsNode,
            ["files"] = files,
        }));
    }

    /// <summary>Checks every file of a written bundle against its BUNDLE.json (LMOE3405 on a difference).</summary>
    public static void Verify(string root)
    {
        var manifestPath = Path.Combine(root, ManifestName);
        JsonObject? listed = null;
        try
        {
            listed = JsonNode.Parse(File.ReadAllText(manifestPath))?["files"] as JsonObject;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            // reported below
        }

        if (listed is null)
        {
            throw Modified(manifestPath, "BUNDLE.json is missing or unreadable");
        }

        var actual = Digests(root);
        foreach (var (path, digest) in listed)
        {
            if (!actual.TryGetValue(path, out var found) || found != digest?.GetValue<string>())
            {
                throw Modified(Path.Combine(root, path), found is null ? $"'{path}' is missing" : $"'{path}' changed since the bundle was written");
            }
        }

        var extra = actual.Keys.FirstOrDefault(p => !listed.ContainsKey(p));
        if (extra is not null)
        {
            throw Modified(Path.Combine(root, extra), $"'{extra}' is not listed in BUNDLE.json");
        }
    }

    private static LlamaMoeException Modified(string path, string problem) =>
        new(ExternalTrainingErrorCodes.BundleModified, $"the job bundle was modified: {problem}", path, advice: "Bundles are read-only once written; delete the bundle folder and run the stage again.");
}
