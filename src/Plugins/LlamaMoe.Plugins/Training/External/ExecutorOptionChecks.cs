using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// The <c>validate</c>-time refusals of an external executor: options it cannot honour with the same meaning as the local
/// trainer (non-integer gradient accumulation for the world size, ZeRO without DeepSpeed, stock classes for llamamoe-only losses).
/// </summary>
public static class ExecutorOptionChecks
{
    /// <summary>The recipe's global batch in rows per optimizer step (the same for every executor).</summary>
    public static int GlobalBatch(TrainOptions options) => checked(options.BatchSize * options.GradAccum);

    /// <summary>
    /// Rows per GPU per forward: <see cref="TrainExecutorOptions.MicroBatch"/> when given, else the largest divisor of
    /// global / world that is at most batch-size; null when the global batch does not split over the world size.
    /// </summary>
    public static int? MicroBatch(TrainOptions options, TrainExecutorOptions executor)
    {
        var global = GlobalBatch(options);
        if (executor.MicroBatch is { } given)
        {
            return global % checked(given * executor.WorldSize) == 0 ? given : null;
        }

        if (global % executor.WorldSize != 0)
        {
            return null;
        }

        var perRank = global / executor.WorldSize;
        for (var micro = Math.Min(options.BatchSize, perRank); micro >= 1; micro--)
        {
            if (perRank % micro == 0)
            {
                return micro;
            }
        }

        return null;
    }

    /// <summary>Gradient accumulation steps of the external run (global / (micro · world)), or null when not an integer.</summary>
    public static int? GradientAccumulation(TrainOptions options, TrainExecutorOptions executor) =>
        MicroBatch(options, executor) is { } micro ? GlobalBatch(options) / (micro * executor.WorldSize) : null;

    /// <summary>The problems, each at its option key (empty for the local executor).</summary>
    public static IEnumerable<OptionProblem> Problems(TrainOptions options)
    {
        if (options.Executor is not { IsExternal: true } executor)
        {
            yield break;
        }

        var code = ExternalTrainingErrorCodes.GradientAccumulation;
        if (MicroBatch(options, executor) is null)
        {
            var global = GlobalBatch(options);
            yield return executor.MicroBatch is { } micro
                ? new OptionProblem("executor.micro-batch",
                    $"{code}: the global batch {global} (batch-size · grad-accum) is not a multiple of micro-batch {micro} × world size {executor.WorldSize}, so gradient accumulation would not be an integer",
                    "Choose a micro-batch and world size whose product divides the global batch.")
                : new OptionProblem("executor.gpus-per-node",
                    $"{code}: the global batch {global} (batch-size · grad-accum) does not split over a world size of {executor.WorldSize} ({executor.Nodes} node(s) × {executor.GpusPerNode} GPU(s))",
                    "Make batch-size · grad-accum a multiple of nodes · gpus-per-node.");
        }

        if (executor.UsesDeepSpeed && !executor.Pins.ContainsKey("deepspeed"))
        {
            yield return new OptionProblem("executor.sharding",
                $"{ExternalTrainingErrorCodes.DeepSpeedMissing}: sharding {Name(executor.Sharding)} runs on DeepSpeed, but executor.pins has no deepspeed pin",
                "Add a pin such as 'deepspeed: \">=0.17\"' under executor.pins, or use sharding: fsdp2.");
        }

        if (executor.Modeling == TrainModeling.Stock && options.BalanceLoss == TrainBalanceLoss.Cv2)
        {
            yield return new OptionProblem("balance-loss",
                $"{ExternalTrainingErrorCodes.ProfileCannotExpress}: the cv2 balance loss (LLaMA-MoE v1) exists only in the llamamoe modeling profile, not in the stock transformers classes",
                "Set executor.modeling: llamamoe, or use balance-loss: switch or none.");
        }

        if (executor.Modeling == TrainModeling.Stock && options.ZLoss > 0)
        {
            yield return new OptionProblem("z-loss",
                $"{ExternalTrainingErrorCodes.ProfileCannotExpress}: the router z-loss exists only in the llamamoe modeling profile",
                "Set executor.modeling: llamamoe, or z-loss: 0.");
        }

        if (options.Distill is not null)
        {
            yield return new OptionProblem("distill",
                $"{ExternalTrainingErrorCodes.ExecutorOption}: distillation from a teacher runs only in the local trainer; the external trainer has no teacher forward",
                "Remove 'distill' for this stage, or use executor: local.");
        }

        foreach (var (name, specifier) in executor.Pins)
        {
            if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || specifier.Any(c => c is '\n' or '\r' or ';' or '#'))
            {
                yield return new OptionProblem($"executor.pins.{name}", $"'{name}{specifier}' is not a package pin", "Write pins as 'name: \">=1.2,<2\"'.");
            }
        }

        if (executor.Kind == TrainExecutorKind.Kubernetes && !executor.Kubernetes.MountPath.StartsWith('/'))
        {
            yield return new OptionProblem("executor.kubernetes.mount-path", "the mount path must be absolute", "Write it as /work or similar.");
        }
    }

    /// <summary>The YAML name of a sharding.</summary>
    public static string Name(TrainSharding sharding) => sharding.ToString().ToLowerInvariant();
}
