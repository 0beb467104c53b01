using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>Reads the complete lines appended to a JSON-lines file since the last call (by byte offset), skipping malformed ones.</summary>
/// <param name="path">The file (may not exist yet).</param>
public sealed class ProgressTail(string path)
{
    private long offset;
    private readonly StringBuilder partial = new();

    /// <summary>The new complete records.</summary>
    public List<JsonObject> ReadNew()
    {
        var records = new List<JsonObject>();
        if (!File.Exists(path))
        {
            return records;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length < offset)
        {
            offset = 0; // truncated or replaced
            partial.Clear();
        }

        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - offset];
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        offset += read;
        partial.Append(Encoding.UTF8.GetString(buffer, 0, read));
        var text = partial.ToString();
        var end = text.LastIndexOf('\n');
        if (end < 0)
        {
            return records;
        }

        partial.Clear().Append(text[(end + 1)..]);
        foreach (var line in text[..end].Split('\n'))
        {
            try
            {
                if (line.Trim().Length > 0 && JsonNode.Parse(line) is JsonObject record)
                {
                    records.Add(record);
                }
            }
            catch (JsonException)
            {
                // a torn or foreign line: skipped
            }
        }

        return records;
    }
}
