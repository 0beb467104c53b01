using System.Text;
using System.Text.Json;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Follows a trainer's run folder by byte offset: new complete lines of <c>events.jsonl</c> and <c>progress.jsonl</c>, or,
/// while there is no progress.jsonl (output folder not mounted here), <c>LMOE_PROGRESS {json}</c> lines of the job log.
/// A line is read only once it ends with a newline, so a record being written is picked up on the next read.
/// </summary>
public sealed class SlurmOutputTail
{
    private const string ProgressPrefix = "LMOE_PROGRESS ";
    private readonly string _runDirectory;
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);

    /// <summary>Creates a tail of <paramref name="runDirectory"/>, optionally with the job log as a fallback progress source.</summary>
    public SlurmOutputTail(string runDirectory, string? logPath)
    {
        _runDirectory = runDirectory;
        LogPath = logPath;
    }

    /// <summary>The job log read for <c>LMOE_PROGRESS</c> lines when progress.jsonl is absent.</summary>
    public string? LogPath { get; set; }

    /// <summary>Path of DONE.json, written last by the trainer.</summary>
    public string DonePath => Path.Combine(_runDirectory, "DONE.json");

    /// <summary>Reads what was appended since the last call: events first, then progress records.</summary>
    public IReadOnlyList<ExternalJobUpdate> ReadNew()
    {
        var updates = new List<ExternalJobUpdate>();
        foreach (var line in ReadNewLines(Path.Combine(_runDirectory, "events.jsonl")))
        {
            if (TryParseEvent(line) is { } ev)
            {
                updates.Add(new ExternalJobUpdate(null, null, ev));
            }
        }

        var progressPath = Path.Combine(_runDirectory, "progress.jsonl");
        var fromLog = !File.Exists(progressPath) && LogPath is not null;
        foreach (var line in ReadNewLines(fromLog ? LogPath! : progressPath))
        {
            var json = fromLog ? (line.StartsWith(ProgressPrefix, StringComparison.Ordinal) ? line[ProgressPrefix.Length..] : null) : line;
            if (json is not null && TryParseProgress(json) is { } progress)
            {
                updates.Add(new ExternalJobUpdate(null, progress, null));
            }
        }

        return updates;
    }

    /// <summary>DONE.json's <c>final_step</c> when the file exists and says <c>status: done</c>; null otherwise.</summary>
    public long? ReadDoneFinalStep()
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(DonePath));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status) || status.GetString() != "done")
            {
                return null;
            }

            return root.TryGetProperty("final_step", out var step) && step.TryGetInt64(out var value) ? value : -1;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Parses one progress record; null when it is not a JSON object with a step.</summary>
    public static ExternalTrainingProgress? TryParseProgress(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || Long(r, "step") is not { } step)
            {
                return null;
            }

            return new ExternalTrainingProgress(step, Long(r, "max_steps") ?? 0, Double(r, "epoch"), Double(r, "loss"), Double(r, "lr"),
                Double(r, "grad_norm"), Long(r, "tokens_seen"), Double(r, "tok_s_gpu"), Double(r, "mfu"), Double(r, "mem_gb"), Double(r, "ts"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Parses one event record; null when it is not a JSON object with an <c>event</c> name.</summary>
    public static ExternalTrainingEvent? TryParseEvent(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            return new ExternalTrainingEvent(name.GetString()!, Long(r, "step"), Long(r, "from_step"), String(r, "code"), String(r, "message"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private List<string> ReadNewLines(string path)
    {
        var lines = new List<string>();
        var offset = _offsets.GetValueOrDefault(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return lines;
        }

        using (stream)
        {
            if (stream.Length < offset)
            {
                offset = 0; // truncated or replaced: read it again from the start
            }

            stream.Position = offset;
            var buffer = new byte[stream.Length - offset];
            stream.ReadExactly(buffer);
            var end = Array.LastIndexOf(buffer, (byte)'\n');
            if (end < 0)
            {
                return lines;
            }

            _offsets[path] = offset + end + 1;
            foreach (var line in Encoding.UTF8.GetString(buffer, 0, end).Split('\n'))
            {
                if (line.Trim() is { Length: > 0 } trimmed)
                {
                    lines.Add(trimmed);
                }
            }
        }

        return lines;
    }

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var x) ? x : null;

    private static double? Double(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
