using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// <c>kind: torchrun</c>: runs <c>launch/local.sh</c> as its own process group (setsid), after writing run.json to the
/// stage's temp folder; a rerun whose run.json names a live process re-attaches instead of starting a second job. Progress
/// from progress.jsonl and events.jsonl goes to the run's progress display; Ctrl+C sends SIGTERM to the group (or detaches);
/// a preempted or silent run (no heartbeat, LMOE3421) is relaunched up to <c>retries</c> times and resumes from its checkpoint.
/// </summary>
internal static class TorchrunLauncher
{
    /// <summary>Seconds without a heartbeat after which a running job is restarted (LLAMAMOE_HEARTBEAT_TIMEOUT overrides 900).</summary>
    private static double HeartbeatTimeout =>
        double.TryParse(Environment.GetEnvironmentVariable("LLAMAMOE_HEARTBEAT_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 900;

    public static async Task RunAsync(IStepContext context, BundleJob job, CancellationToken cancellationToken)
    {
        var runDirectory = Path.Combine(job.OutputDirectory, job.RunName);
        var done = Path.Combine(runDirectory, ExternalResultImporter.DoneName);
        var progress = new ProgressTail(Path.Combine(runDirectory, "progress.jsonl"));
        var events = new ProgressTail(Path.Combine(runDirectory, "events.jsonl"));
        var record = RunRecord.Read(context.ResumeDirectory, job.StageKey);
        var attempt = record?.Attempt ?? 0;
        while (true)
        {
            int? exitCode;
            if (record is not null && record.IsAlive())
            {
                context.Log.Info($"re-attaching to {record.JobName} (pid {record.ProcessId}) instead of starting a second job");
                exitCode = await WatchAsync(context, job, record, null, progress, events, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                attempt++;
                record = new RunRecord(job.StageKey, "torchrun", $"lmoe-{job.Key12}-a{attempt}", job.OutputDirectory, attempt, null, null);
                record.Write(context.ResumeDirectory);
                using var process = Start(job, TrainerLog(job));
                record = record with { ProcessId = process.Id, StartTicks = RunRecord.StartTicksOf(process.Id) };
                record.Write(context.ResumeDirectory);
                context.Log.Info($"started {record.JobName}: bash {job.BundleDirectory}/launch/local.sh (pid {process.Id}, output in {TrainerLog(job)})");
                exitCode = await WatchAsync(context, job, record, process, progress, events, cancellationToken).ConfigureAwait(false);
            }

            var last = LastEvent(runDirectory);
            if (File.Exists(done))
            {
                File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
                return;
            }

            if (last?["event"]?.GetValue<string>() == "error" || exitCode is 2 or 3 or 4)
            {
                var code = last?["event"]?.GetValue<string>() == "error" ? last["code"]?.GetValue<string>() : null;
                var message = last?["event"]?.GetValue<string>() == "error" ? last["message"]?.GetValue<string>() ?? "no message" : $"the trainer exited with code {exitCode}";
                File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
                throw new LlamaMoeException(code is { Length: 8 } && code.StartsWith("LMOE34", StringComparison.Ordinal) ? code : ExternalTrainingErrorCodes.TrainerFailed,
                    $"the external trainer failed: {message} (trainer log: {TrainerLog(job)}){LogTail(TrainerLog(job))}", TrainerLog(job),
                    advice: $"Read the trainer log and {Path.Combine(runDirectory, "events.jsonl")}; fix the cause and run again (it resumes from the newest complete checkpoint).");
            }

            if (attempt > job.Executor.Retries)
            {
                File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
                throw new LlamaMoeException(ExternalTrainingErrorCodes.RetriesExhausted, $"the trainer stopped {attempt} time(s) without DONE.json (last event: {last?["event"] ?? "none"})",
                    Path.Combine(runDirectory, "events.jsonl"), "executor.retries", "Raise executor.retries or find why the job keeps stopping.");
            }

            context.Log.Warning($"{record.JobName} stopped without DONE.json ({last?["event"] ?? "no event"}); relaunching, it resumes from the newest complete checkpoint");
        }
    }

    /// <summary>The file the trainer's stdout and stderr go to (appended over attempts), so that it outlives our process.</summary>
    internal static string TrainerLog(BundleJob job) => Path.Combine(job.OutputDirectory, job.RunName, "trainer.log");

    private static Process Start(BundleJob job, string log)
    {
        var script = Path.Combine(job.BundleDirectory, "launch", "local.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var info = File.Exists("/usr/bin/setsid") ? new ProcessStartInfo("/usr/bin/setsid") : new ProcessStartInfo("bash");
        if (info.FileName == "/usr/bin/setsid")
        {
            info.ArgumentList.Add("bash");
        }

        // bash -c 'exec bash local.sh >>log 2>&1': the output goes to a file, not to a pipe that would break when we die (re-attach)
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec bash \"$0\" >>\"$1\" 2>&1 </dev/null");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(log);
        info.UseShellExecute = false;
        info.Environment["LLAMAMOE_OUTPUT"] = job.OutputDirectory;
        return Process.Start(info) ?? throw new LlamaMoeException(ExternalTrainingErrorCodes.TrainerFailed, "could not start bash for launch/local.sh", script);
    }

    private static async Task<int?> WatchAsync(IStepContext context, BundleJob job, RunRecord record, Process? process, ProgressTail progress, ProgressTail events, CancellationToken cancellationToken)
    {
        var heartbeat = Path.Combine(job.OutputDirectory, job.RunName, "heartbeat");
        var started = DateTime.UtcNow;
        while (true)
        {
            Report(context, progress, events);
            var exited = process is not null ? process.HasExited : !record.IsAlive();
            if (exited)
            {
                Report(context, progress, events);
                return process?.ExitCode;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                if (job.Executor.OnCancel == TrainOnCancel.Detach)
                {
                    context.Log.Warning($"detached from {record.JobName} (pid {record.ProcessId}); run the pipeline again to re-attach");
                }
                else
                {
                    await StopAsync(record).ConfigureAwait(false);
                    File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
                }

                cancellationToken.ThrowIfCancellationRequested();
            }

            var lastBeat = File.Exists(heartbeat) ? File.GetLastWriteTimeUtc(heartbeat) : started;
            if ((DateTime.UtcNow - (lastBeat > started ? lastBeat : started)).TotalSeconds > HeartbeatTimeout)
            {
                context.Log.Warning($"{ExternalTrainingErrorCodes.HeartbeatLost}: no heartbeat from {record.JobName} for {HeartbeatTimeout:F0} s; stopping it to relaunch");
                await StopAsync(record).ConfigureAwait(false);
                return null;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // handled at the top of the loop
            }
        }
    }

    private static void Report(IStepContext context, ProgressTail progress, ProgressTail events)
    {
        foreach (var line in progress.ReadNew())
        {
            var step = line["step"]?.GetValue<int>() ?? 0;
            var total = line["max_steps"]?.GetValue<int>() ?? 0;
            var metrics = new Dictionary<string, double>();
            foreach (var name in new[] { "loss", "lr", "grad_norm", "tok_s_gpu", "mfu" })
            {
                if (line[name] is JsonValue value && value.TryGetValue<double>(out var number))
                {
                    metrics[name] = number;
                }
            }

            context.Progress.Report(step, total, $"loss {metrics.GetValueOrDefault("loss"):F4} lr {metrics.GetValueOrDefault("lr"):G3} {metrics.GetValueOrDefault("tok_s_gpu"):F0} tok/s/GPU", metrics);
        }

        foreach (var line in events.ReadNew())
        {
            var name = line["event"]?.GetValue<string>();
            if (name is "resume" or "preempted" or "error" or "checkpoint")
            {
                context.Log.Info($"trainer event: {line.ToJsonString()}");
            }
        }
    }

    private static async Task StopAsync(RunRecord record)
    {
        if (record.ProcessId is not { } pid)
        {
            return;
        }

        Signal(pid, "TERM");
        for (var i = 0; i < 120 && record.IsAlive(); i++)
        {
            await Task.Delay(250).ConfigureAwait(false);
        }

        if (record.IsAlive())
        {
            Signal(pid, "KILL");
        }
    }

    private static void Signal(int processGroup, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, "--", "-" + processGroup.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
        kill?.WaitForExit();
    }

    /// <summary>The last lines of the trainer log, indented, for an error message; empty when there is no log.</summary>
    private static string LogTail(string log)
    {
        if (!File.Exists(log))
        {
            return string.Empty;
        }

        var lines = File.ReadLines(log).Where(l => l.Trim().Length > 0 && !l.StartsWith("LMOE_PROGRESS ", StringComparison.Ordinal)).TakeLast(8).ToList();
        return lines.Count == 0 ? string.Empty : "\n  | " + string.Join("\n  | ", lines);
    }

    private static JsonObject? LastEvent(string runDirectory)
    {
        var path = Path.Combine(runDirectory, "events.jsonl");
        return File.Exists(path) ? new ProgressTail(path).ReadNew().LastOrDefault() : null;
    }
}
