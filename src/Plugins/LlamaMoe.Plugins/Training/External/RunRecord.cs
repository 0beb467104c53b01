using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// run.json in the stage's temp folder, written before a launch and completed with the process id: lets a rerun after our
/// own death find the running job (same pid and start time) instead of starting a second one.
/// </summary>
/// <param name="StageKey">The job's stage key.</param>
/// <param name="Backend">The launch backend (torchrun).</param>
/// <param name="JobName">lmoe-&lt;key12&gt;-a&lt;attempt&gt;.</param>
/// <param name="OutputDirectory">The output URI.</param>
/// <param name="Attempt">1 for the first launch, +1 per relaunch.</param>
/// <param name="ProcessId">The process (and process-group) id, or null before the start.</param>
/// <param name="StartTicks">The process start time in clock ticks since boot (/proc/PID/stat field 22), or null.</param>
/// <param name="JobId">The scheduler's job id (Slurm), or null before the submission and for torchrun.</param>
public sealed record RunRecord(string StageKey, string Backend, string JobName, string OutputDirectory, int Attempt, int? ProcessId, long? StartTicks, string? JobId = null)
{
    /// <summary>The file name.</summary>
    public const string FileName = "run.json";

    /// <summary>Writes the record atomically.</summary>
    public void Write(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), BundleFiles.Json(new JsonObject
    {
        ["stage_key"] = StageKey,
        ["backend"] = Backend,
        ["job_name"] = JobName,
        ["output_uri"] = OutputDirectory,
        ["attempt"] = Attempt,
        ["pid"] = ProcessId,
        ["start_ticks"] = StartTicks,
        ["job_id"] = JobId,
    }));

    /// <summary>The record in <paramref name="directory"/>, or null; LMOE3408 when it is unreadable or belongs to another key.</summary>
    public static RunRecord? Read(string directory, string stageKey)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path))!;
            var record = new RunRecord(node["stage_key"]!.GetValue<string>(), node["backend"]!.GetValue<string>(), node["job_name"]!.GetValue<string>(),
                node["output_uri"]!.GetValue<string>(), node["attempt"]!.GetValue<int>(), node["pid"]?.GetValue<int>(), node["start_ticks"]?.GetValue<long>(),
                node["job_id"]?.GetValue<string>());
            if (record.StageKey != stageKey)
            {
                throw new LlamaMoeException(ExternalTrainingErrorCodes.RunRecordInvalid, $"run.json belongs to stage key {record.StageKey[..12]}, not {stageKey[..12]}", path,
                    advice: "Delete it after making sure that job no longer runs.");
            }

            return record;
        }
        catch (Exception ex) when (ex is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.RunRecordInvalid, "run.json is unreadable", path, advice: "Delete it after making sure no job of this stage still runs.", inner: ex);
        }
    }

    /// <summary>Whether the recorded process still runs (same pid and start time).</summary>
    public bool IsAlive() => ProcessId is { } pid && StartTicks is { } ticks && StartTicksOf(pid) == ticks;

    /// <summary>The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null when it does not exist.</summary>
    public static long? StartTicksOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : long.Parse(fields[19], CultureInfo.InvariantCulture); // fields[0] is field 3 (state); field 22 is fields[19]
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
