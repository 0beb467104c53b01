using System.Globalization;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// <c>kind: slurm</c> with a Slurm client: submits <c>launch/slurm.sbatch</c> through <see cref="SlurmLaunchBackend"/> after
/// writing run.json, adds the job id to it, follows the job (<see cref="SlurmJobFollower"/>: progress, events, requeue after
/// preemption), re-attaches on a rerun from run.json's job id (or the job name), and on Ctrl+C cancels it with scancel
/// unless <c>on-cancel: detach</c>. The caller imports once DONE.json exists.
/// </summary>
internal static class SlurmTrainingRun
{
    /// <summary>
    /// Whether the stage submits the job itself: <c>executor.slurm.submit</c> when set, else whether <c>sbatch</c> is on PATH.
    /// LMOE3433 when <c>submit: true</c> and there is no sbatch.
    /// </summary>
    public static bool ShouldSubmit(TrainExecutorOptions executor)
    {
        var found = FindOnPath("sbatch") is not null;
        if (executor.Slurm.Submit == true && !found)
        {
            throw new LlamaMoeException(ExternalTrainingErrorCodes.SlurmClientMissing, "executor.slurm.submit is true but sbatch is not on PATH",
                key: "executor.slurm.submit", advice: "Run the pipeline on a Slurm login node (sbatch, squeue, scontrol, scancel on PATH), or set submit: false to only write the bundle.");
        }

        return executor.Slurm.Submit ?? found;
    }

    public static async Task RunAsync(IStepContext context, BundleJob job, CancellationToken cancellationToken)
    {
        var executor = job.Executor;
        var backend = new SlurmLaunchBackend(new SlurmBackendOptions
        {
            PollInterval = TimeSpan.FromSeconds(executor.Slurm.PollSeconds),
            MaxRequeues = executor.Retries,
            Partition = executor.Slurm.Partition,
            Account = executor.Slurm.Account,
            Time = executor.Slurm.Time,
            Qos = executor.Slurm.Qos,
            Constraint = executor.Slurm.Constraint,
            ExtraSbatchArguments = executor.Slurm.SbatchArgs,
        });
        var runDirectory = Path.Combine(job.OutputDirectory, job.RunName);
        var record = RunRecord.Read(context.ResumeDirectory, job.StageKey);
        var handle = record is { Backend: "slurm" }
            ? await backend.TryAttachAsync(record.JobId, record.JobName, runDirectory, cancellationToken).ConfigureAwait(false)
            : null;
        if (handle is not null)
        {
            context.Log.Info($"re-attaching to Slurm job {handle.JobId} ({handle.JobName}) instead of submitting a second one");
        }
        else
        {
            var attempt = (record?.Attempt ?? 0) + 1;
            var name = SlurmLaunchBackend.JobName(job.StageKey, attempt);
            record = new RunRecord(job.StageKey, backend.Name, name, job.OutputDirectory, attempt, null, null);
            record.Write(context.ResumeDirectory);
            handle = await backend.SubmitAsync(job.BundleDirectory, job.OutputDirectory, runDirectory, name, cancellationToken).ConfigureAwait(false);
            (record with { JobId = handle.JobId }).Write(context.ResumeDirectory);
            context.Log.Info($"submitted Slurm job {handle.JobId} ({name}); log {handle.LogPath}");
        }

        try
        {
            var outcome = await backend.WaitAsync(handle, new ProgressReporter(context), cancellationToken).ConfigureAwait(false);
            context.Log.Info($"Slurm job {outcome.Handle.JobId} finished at step {outcome.FinalStep} ({outcome.Restarts} restart(s), {outcome.Preemptions} preemption(s))");
            File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (executor.OnCancel == TrainOnCancel.Detach)
            {
                context.Log.Warning($"detached from Slurm job {handle.JobId} ({handle.JobName}); run the pipeline again to re-attach");
            }
            else
            {
                await backend.CancelAsync(handle, CancellationToken.None).ConfigureAwait(false);
                File.Delete(Path.Combine(context.ResumeDirectory, RunRecord.FileName));
                context.Log.Warning($"cancelled Slurm job {handle.JobId} (scancel)");
            }

            throw;
        }
    }

    private static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, command)).FirstOrDefault(File.Exists);

    /// <summary>Turns the backend's updates into the stage's progress display and log (called synchronously by the follower).</summary>
    private sealed class ProgressReporter(IStepContext context) : IProgress<ExternalJobUpdate>
    {
        public void Report(ExternalJobUpdate value)
        {
            if (value.Status is { } status)
            {
                context.Log.Info($"Slurm: {status.RawState}" + (status.Reason is { Length: > 0 } reason && reason != "None" ? $" ({reason})" : string.Empty));
            }

            if (value.Progress is { } p)
            {
                var metrics = new Dictionary<string, double>();
                Add(metrics, "loss", p.Loss);
                Add(metrics, "lr", p.LearningRate);
                Add(metrics, "grad_norm", p.GradNorm);
                Add(metrics, "tok_s_gpu", p.TokensPerSecondPerGpu);
                Add(metrics, "mfu", p.Mfu);
                context.Progress.Report(p.Step, p.MaxSteps, string.Create(CultureInfo.InvariantCulture,
                    $"loss {p.Loss ?? 0:F4} lr {p.LearningRate ?? 0:G3} {p.TokensPerSecondPerGpu ?? 0:F0} tok/s/GPU"), metrics);
            }

            if (value.Event is { Event: "resume" or "preempted" or "error" or "stalled" } e)
            {
                context.Log.Info($"trainer event: {e.Event}" + (e.Step is { } step ? $" at step {step}" : string.Empty)
                    + (e.FromStep is { } from ? $" from step {from}" : string.Empty) + (e.Code is { } code ? $" {code}" : string.Empty) + (e.Message is { } m ? $": {m}" : string.Empty));
            }
        }

        private static void Add(Dictionary<string, double> metrics, string name, double? value)
        {
            if (value is { } number)
            {
                metrics[name] = number;
            }
        }
    }
}
