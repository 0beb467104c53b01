using System.Globalization;
using System.Text.RegularExpressions;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>One job as listed by squeue, scontrol or sacct.</summary>
/// <param name="JobId">Job id.</param>
/// <param name="JobName">Job name.</param>
/// <param name="Status">Its state.</param>
/// <param name="StdOut">The job's stdout path when the command tells it (scontrol), else null.</param>
public sealed record SlurmJobRecord(string JobId, string JobName, ExternalJobStatus Status, string? StdOut);

/// <summary>Parses the output of squeue, <c>scontrol show job -o</c> and <c>sacct -P</c>, and maps Slurm job states.</summary>
public static partial class SlurmJobStateParser
{
    /// <summary>The squeue output format the backend asks for: id, name, state, reason, separated by '|'.</summary>
    public const string SqueueFormat = "%i|%j|%T|%r";

    /// <summary>Maps a Slurm state word (long or short form, with sacct's suffixes such as "CANCELLED by 0" or "+").</summary>
    public static ExternalJobState MapState(string rawState)
    {
        var word = rawState.Trim().Split(' ', 2)[0].TrimEnd('+').ToUpperInvariant();
        return word switch
        {
            "PENDING" or "PD" or "REQUEUE_HOLD" or "RH" or "REQUEUE_FED" or "RF" or "RESV_DEL_HOLD" or "RD" or "SPECIAL_EXIT" or "SE" => ExternalJobState.Pending,
            "RUNNING" or "R" or "CONFIGURING" or "CF" or "SUSPENDED" or "S" or "STOPPED" or "ST" or "SIGNALING" or "SI" or "STAGE_OUT" or "SO" => ExternalJobState.Running,
            "COMPLETING" or "CG" or "REQUEUED" or "RQ" or "RESIZING" or "RS" => ExternalJobState.Completing,
            "COMPLETED" or "CD" => ExternalJobState.Completed,
            "FAILED" or "F" or "BOOT_FAIL" or "BF" or "DEADLINE" or "DL" => ExternalJobState.Failed,
            "CANCELLED" or "CA" or "REVOKED" or "RV" => ExternalJobState.Cancelled,
            "PREEMPTED" or "PR" => ExternalJobState.Preempted,
            "NODE_FAIL" or "NF" => ExternalJobState.NodeFail,
            "TIMEOUT" or "TO" => ExternalJobState.Timeout,
            "OUT_OF_MEMORY" or "OOM" => ExternalJobState.OutOfMemory,
            _ => ExternalJobState.Unknown,
        };
    }

    /// <summary>Parses <c>squeue -h -o "%i|%j|%T|%r"</c> output: one record per non-empty line (the restart count is not listed: 0).</summary>
    public static IReadOnlyList<SlurmJobRecord> ParseSqueue(string output)
    {
        var records = new List<SlurmJobRecord>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('|');
            if (fields.Length < 3)
            {
                continue;
            }

            var reason = fields.Length > 3 && fields[3] is not ("None" or "") ? fields[3] : null;
            records.Add(new SlurmJobRecord(fields[0], fields[1], new ExternalJobStatus(MapState(fields[2]), fields[2], reason, null, 0), null));
        }

        return records;
    }

    /// <summary>Parses one job of <c>scontrol show job -o &lt;id&gt;</c> (key=value pairs on one line); null when it names no job.</summary>
    public static SlurmJobRecord? ParseScontrolJob(string output)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in KeyValue().Matches(output))
        {
            fields.TryAdd(match.Groups[1].Value, match.Groups[2].Value);
        }

        if (!fields.TryGetValue("JobId", out var id) || !fields.TryGetValue("JobState", out var state))
        {
            return null;
        }

        var reason = fields.GetValueOrDefault("Reason") is { } r && r != "None" ? r : null;
        var restarts = int.TryParse(fields.GetValueOrDefault("Restarts"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var status = new ExternalJobStatus(MapState(state), state, reason, ParseExitCode(fields.GetValueOrDefault("ExitCode")), restarts);
        return new SlurmJobRecord(id, fields.GetValueOrDefault("JobName") ?? "", status, fields.GetValueOrDefault("StdOut"));
    }

    /// <summary>Parses <c>sacct -X -n -P -o JobID,JobName,State,ExitCode</c>: the last line for the job (the newest requeue).</summary>
    public static SlurmJobRecord? ParseSacct(string output)
    {
        SlurmJobRecord? last = null;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('|');
            if (fields.Length < 4)
            {
                continue;
            }

            var status = new ExternalJobStatus(MapState(fields[2]), fields[2].Split(' ', 2)[0], null, ParseExitCode(fields[3]), 0);
            last = new SlurmJobRecord(fields[0], fields[1], status, null);
        }

        return last;
    }

    /// <summary>Reads the job id from <c>sbatch --parsable</c> output (<c>id</c> or <c>id;cluster</c>); null when there is none.</summary>
    public static string? ParseSubmittedJobId(string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        var id = line?.Split(';')[0];
        return id is not null && JobId().IsMatch(id) ? id : null;
    }

    /// <summary>Slurm's <c>exit:signal</c> form: the exit code, or 128+signal when a signal ended the job; null when absent.</summary>
    public static int? ParseExitCode(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var parts = text.Split(':');
        if (!int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
        {
            return null;
        }

        return parts.Length > 1 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var signal) && signal != 0
            ? 128 + signal
            : code;
    }

    [GeneratedRegex(@"(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=(\S*)")]
    private static partial Regex KeyValue();

    [GeneratedRegex(@"^[0-9]+(_[0-9]+)?$")]
    private static partial Regex JobId();
}
