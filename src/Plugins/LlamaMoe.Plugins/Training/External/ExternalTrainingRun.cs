using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// The <c>train</c> steps with an external executor: build the rows exactly as the local trainer would, write the job bundle,
/// then import a finished result (DONE.json in the output URI), launch torchrun locally, submit to Slurm and follow the job
/// (when sbatch is on PATH or <c>slurm.submit: true</c>), or stop with LMOE3400 saying how to launch it (a rerun imports the result).
/// </summary>
internal static class ExternalTrainingRun
{
    public static async Task RunAsync(IStepContext context, TrainOptions options, CancellationToken cancellationToken)
    {
        var executor = options.Executor!;
        var job = WriteBundle(context, options);
        var runDirectory = Path.Combine(job.OutputDirectory, job.RunName);
        if (!File.Exists(Path.Combine(runDirectory, ExternalResultImporter.DoneName)))
        {
            if (executor.Kind == TrainExecutorKind.Torchrun)
            {
                await TorchrunLauncher.RunAsync(context, job, cancellationToken).ConfigureAwait(false);
            }
            else if (executor.Kind == TrainExecutorKind.Slurm && SlurmTrainingRun.ShouldSubmit(executor))
            {
                await SlurmTrainingRun.RunAsync(context, job, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new LlamaMoeException(ExternalTrainingErrorCodes.LaunchByHand, LaunchMessage(job), key: "executor.kind",
                    advice: $"Launch it, wait for {job.RunName}/DONE.json under {job.OutputDirectory}, then run the pipeline again to import the result.");
            }
        }

        ExternalResultImporter.Import(context, job, runDirectory);
    }

    private static BundleJob WriteBundle(IStepContext context, TrainOptions options)
    {
        var input = ModelArtifacts.SingleModelInput(context);
        ModelArtifacts.HostDevice(context);
        var tokenizer = TokenizerLoader.Load(input.Directory);
        var seed = options.Seed ?? context.Seed;
        context.Progress.Report(0, 0, "encoding the data for the job bundle");
        var (data, examples, _) = TrainingDataBuilder.Build(options.Sources, tokenizer, options, seed, tokenizer.EosId ?? 0);
        var maxSteps = options.MaxSteps ?? (int)Math.Max(1, Math.Ceiling(data.Rows.Count * options.Epochs!.Value / (options.BatchSize * options.GradAccum)));
        var storage = options.Executor!.Storage;
        var bundleRoot = storage.BundleUri ?? Path.Combine(context.ResumeDirectory, "bundles");
        var outputRoot = storage.OutputUri ?? Path.Combine(context.ResumeDirectory, "output");
        context.Progress.Report(0, 0, "writing the job bundle");
        var job = JobBundleWriter.Write(new BundleRequest(input.Directory, input.Digest, options, data.Rows, maxSteps, seed, tokenizer.EosId ?? 0,
            TokenizerDigest(input.Directory), bundleRoot, outputRoot, PythonPackageLocator.Locate()));
        context.Log.Info($"job bundle {job.BundleDirectory}: profile {job.Model.Profile}, {examples} examples → {job.Data.Rows} rows, {maxSteps} steps");
        context.Outputs["bundle"] = job.BundleDirectory;
        return job;
    }

    private static string TokenizerDigest(string directory) =>
        new[] { "tokenizer.json", "tokenizer.model" }.Select(name => Path.Combine(directory, name)).FirstOrDefault(File.Exists) is { } file ? BundleFiles.Sha256(file) : string.Empty;

    private static string LaunchMessage(BundleJob job) => job.Executor.Kind switch
    {
        TrainExecutorKind.Slurm => $"the job bundle is written (sbatch is not on PATH, or executor.slurm.submit is false); submit it with: sbatch --parsable {job.BundleDirectory}/launch/slurm.sbatch",
        TrainExecutorKind.Kubernetes => $"the job bundle is written; start it with: kubectl apply -f {job.BundleDirectory}/launch/trainjob.yaml (or launch/pytorchjob.yaml for the legacy operator)",
        _ => $"the job bundle is written to {job.BundleDirectory}; run launch/local.sh, launch/slurm.sbatch or apply launch/trainjob.yaml as its README.md says",
    };
}
