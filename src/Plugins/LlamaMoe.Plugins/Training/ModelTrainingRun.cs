using System.Globalization;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// The work of the <c>train</c> steps: load the input model, build the rows, run the <see cref="Trainer"/> with its checkpoints in
/// the stage's resume folder (a killed run continues from the last checkpoint), then publish the model, metrics.jsonl
/// (without wall-clock fields, so equal runs give equal artifacts), loss.png and training.json.
/// </summary>
internal static class ModelTrainingRun
{
    private static readonly string[] WallClockFields = ["tokens_per_second", "elapsed_seconds"];

    public static Task RunAsync(IStepContext context, TrainOptions options, string studentKind, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (options.Executor is { IsExternal: true })
        {
            return External.ExternalTrainingRun.RunAsync(context, options, cancellationToken);
        }

        var teacherInput = DistillTeacher.Resolve(context, options.Distill);
        var input = teacherInput?.StageId is { } teacherStage ? DistillTeacher.StudentInput(context, teacherStage) : ModelArtifacts.SingleModelInput(context);
        if (input.Kind != studentKind)
        {
            throw new LlamaMoeException(PluginErrorCodes.ModelInput, $"stage '{context.StageId}' trains a {studentKind}, but its model input '{input.StageId}' is a {input.Kind}", key: "needs",
                advice: studentKind == ArtifactKinds.MoeModel ? "Use train-dense for a dense model; a dense stage in a train stage's needs may only be its distill teacher." : "Use train for a MoE model.");
        }

        var compute = options.Precision == TrainPrecision.Bfloat16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;
        var device = ModelArtifacts.DeviceOf(context, compute);
        var tokenizer = TokenizerLoader.Load(input.Directory);
        var seed = options.Seed ?? context.Seed;
        context.Progress.Report(0, 0, "encoding the data");
        var (data, examples, targets) = TrainingDataBuilder.Build(options.Sources, tokenizer, options, seed, tokenizer.EosId ?? 0);
        var maxSteps = options.MaxSteps ?? (int)Math.Max(1, Math.Ceiling(data.Rows.Count * options.Epochs!.Value / (options.BatchSize * options.GradAccum)));
        context.Log.Info($"{examples} examples → {data.Rows.Count} rows of {options.SeqLen} ({targets:N0} target tokens); {maxSteps} steps");

        using var model = ModelArtifacts.Load(input.Directory, device);
        model.train();
        using var teacher = teacherInput is null ? null : DistillTeacher.Load(context, teacherInput.Value.Directory, device, compute);
        var trainerDirectory = Path.Combine(context.ResumeDirectory, "trainer");
        var trainer = new Trainer(model, TrainerOptionsFor(options, trainerDirectory, maxSteps, seed), teacher);
        var result = trainer.Train(data, progress => context.Progress.Report(progress.Step, progress.TotalSteps,
            $"loss {progress.Loss:F4} lr {progress.LearningRate:G3} {progress.TokensPerSecond:F0} tok/s ETA {progress.Eta:hh\\:mm\\:ss}",
            new Dictionary<string, double>
            {
                ["loss"] = progress.Loss,
                ["lr"] = progress.LearningRate,
                ["tokens_per_second"] = progress.TokensPerSecond,
                ["eta_seconds"] = progress.Eta.TotalSeconds,
            }), cancellationToken);
        if (!result.Completed)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        model.eval();
        ModelArtifacts.Save(model, context.OutputDirectory, input.Directory);
        CopyMetrics(Path.Combine(trainerDirectory, "metrics.jsonl"), Path.Combine(context.OutputDirectory, "metrics.jsonl"));
        LossCurvePlot.Write(new MetricsLog(result.MetricsPath).ReadLosses(), Path.Combine(context.OutputDirectory, "loss.png"));
        var last = ReadLastLoss(Path.Combine(context.OutputDirectory, "metrics.jsonl"));
        WriteSummary(context, options, maxSteps, data.Rows.Count, examples, targets, last);
        if (result.StartStep > 0)
        {
            context.Log.Info($"resumed from step {result.StartStep}");
        }

        return Task.CompletedTask;
    }

    private static TrainerOptions TrainerOptionsFor(TrainOptions options, string directory, int maxSteps, long seed) => new()
    {
        OutputDirectory = directory,
        MaxSteps = maxSteps,
        BatchSize = options.BatchSize,
        GradientAccumulationSteps = options.GradAccum,
        LearningRate = options.Lr,
        MinLearningRateRatio = options.MinLrRatio,
        WarmupSteps = options.Warmup,
        WeightDecay = options.WeightDecay,
        MaxGradNorm = options.Clip,
        Precision = options.Precision switch
        {
            TrainPrecision.Bfloat16 => ComputePrecision.BFloat16,
            TrainPrecision.Tf32 => ComputePrecision.TensorFloat32,
            _ => ComputePrecision.Float32,
        },
        BalanceLoss = options.BalanceLoss switch
        {
            TrainBalanceLoss.Switch => BalanceLossKind.Switch,
            TrainBalanceLoss.Cv2 => BalanceLossKind.CvSquared,
            _ => BalanceLossKind.None,
        },
        BalanceLossCoefficient = options.BalanceCoef,
        RouterZLossCoefficient = options.ZLoss,
        Trainable = options.Trainable.Aggregate(ParameterGroup.None, (all, group) => all | GroupOf(group)),
        FreezeRouters = options.FreezeRouters,
        Seed = seed,
        CheckpointEvery = options.CheckpointEvery,
        KeepCheckpoints = 1,
        Resume = true,
        Distillation = options.Distill is { } distill ? new DistillationSettings(distill.Weight, distill.Temperature, distill.Chunk) : null,
    };

    private static ParameterGroup GroupOf(TrainableGroup group) => group switch
    {
        TrainableGroup.Router => ParameterGroup.Router,
        TrainableGroup.Experts => ParameterGroup.Experts,
        TrainableGroup.Attention => ParameterGroup.Attention,
        TrainableGroup.Embeddings => ParameterGroup.Embeddings,
        TrainableGroup.Norms => ParameterGroup.Norms,
        TrainableGroup.Other => ParameterGroup.Other,
        _ => ParameterGroup.All,
    };

    private static void CopyMetrics(string source, string destination)
    {
        var lines = File.ReadLines(source).Select(line =>
        {
            var node = JsonNode.Parse(line)!.AsObject();
            foreach (var field in WallClockFields)
            {
                node.Remove(field);
            }

            return node.ToJsonString();
        });
        AtomicFile.WriteAllText(destination, string.Join("\n", lines) + "\n");
    }

    private static double ReadLastLoss(string metrics) =>
        (double)JsonNode.Parse(File.ReadLines(metrics).Last(l => l.Length > 0))!["lm_loss"]!;

    private static void WriteSummary(IStepContext context, TrainOptions options, int steps, int rows, int examples, long targets, double lastLoss)
    {
        var c = CultureInfo.InvariantCulture;
        var summary = new JsonObject
        {
            ["steps"] = steps,
            ["rows"] = rows,
            ["examples"] = examples,
            ["target_tokens"] = targets,
            ["seq_len"] = options.SeqLen,
            ["batch_size"] = options.BatchSize,
            ["grad_accum"] = options.GradAccum,
            ["final_lm_loss"] = lastLoss,
        };
        AtomicFile.WriteAllText(Path.Combine(context.OutputDirectory, "training.json"), summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        context.Outputs["steps"] = steps.ToString(c);
        context.Outputs["final-loss"] = lastLoss.ToString("F6", c);
    }
}
