using System.Text;
using System.Text.Json;

namespace LlamaMoe.Pipeline.Store;

/// <summary>Writes the manifest of a finished artifact folder and computes its content digest.</summary>
public static class ArtifactSealer
{
    /// <summary>
    /// Digests every file in <paramref name="directory"/> and writes <c>artifact.json</c>. The digest covers kind,
    /// outputs and files (relative path and content), never timestamps, the producer or the device.
    /// </summary>
    public static ArtifactManifest Seal(string directory, string kind, ArtifactProducer producer, IEnumerable<KeyValuePair<string, string>> outputs, FileDigests digests, string? device = null)
    {
        var files = digests.OfDirectoryFiles(directory, exclude: ArtifactManifest.FileName);
        var sortedOutputs = new SortedDictionary<string, string>(outputs.ToDictionary(o => o.Key, o => o.Value), StringComparer.Ordinal);
        var text = new StringBuilder("llamamoe-artifact/1\nkind ").Append(kind).Append('\n');
        foreach (var (name, value) in sortedOutputs)
        {
            text.Append("output ").Append(name).Append('=').Append(value.Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        }

        foreach (var (path, digest) in files)
        {
            text.Append("file ").Append(path).Append(' ').Append(digest).Append('\n');
        }

        var manifest = new ArtifactManifest
        {
            Kind = kind, Producer = producer, Device = device, Outputs = sortedOutputs, Files = files, Digest = FileDigests.OfText(text.ToString()),
        };
        // Outputs that hold a secret value are written redacted (the digest above still covers the real value).
        var written = manifest with
        {
            Outputs = new SortedDictionary<string, string>(sortedOutputs.ToDictionary(o => o.Key, o => SecretValues.RedactJson(JsonSerializer.Serialize(o.Value), out _) is var json ? JsonSerializer.Deserialize<string>(json)! : o.Value), StringComparer.Ordinal),
        };
        File.WriteAllText(Path.Combine(directory, ArtifactManifest.FileName), written.ToJson());
        return manifest;
    }
}
