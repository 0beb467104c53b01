using System.Diagnostics;
using System.Security.Cryptography;
using LlamaMoe.Modeling.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Trains an <see cref="ICausalLanguageModel"/> on packed or padded rows: AdamW (no decay on norms, biases and
/// vectors), warmup + cosine schedule, gradient clipping and accumulation, optional bfloat16 compute with float32
/// masters, router balance and z-losses, frozen parameter groups, metrics.jsonl, loss.png and exact resume. SFT
/// stages and continual pre-training use the same trainer; only the rows' loss masks differ.
/// </summary>
public sealed class Trainer
{
    private readonly ICausalLanguageModel model;
    private readonly TrainerOptions options;

    /// <summary>Creates a trainer; options are validated here (LMOE3101).</summary>
    public Trainer(ICausalLanguageModel model, TrainerOptions options)
    {
        options.Validate();
        this.model = model;
        this.options = options;
    }

    /// <summary>
    /// Runs (or resumes) training until <see cref="TrainerOptions.MaxSteps"/> or cancellation. On cancellation a
    /// checkpoint of the last finished step is written and the result has <c>Completed = false</c>. A non-finite loss or
    /// gradient norm throws LMOE3102 and leaves the last good checkpoint in place.
    /// </summary>
    public TrainingResult Train(TrainingData data, Action<TrainingProgress>? onProgress = null, CancellationToken cancellation = default)
    {
        if (data.Rows.Count == 0)
        {
            throw TrainingErrors.BadOption("data", "the training data holds no row");
        }

        Directory.CreateDirectory(options.OutputDirectory);
        var fingerprint = Fingerprint(data);
        var store = new CheckpointStore(options.OutputDirectory, options.KeepCheckpoints);
        var metricsLog = new MetricsLog(Path.Combine(options.OutputDirectory, "metrics.jsonl"));
        var lossCurve = Path.Combine(options.OutputDirectory, "loss.png");
        var schedule = new LearningRateSchedule(options.LearningRate, options.EffectiveWarmupSteps, options.MaxSteps, options.MinLearningRateRatio);
        foreach (var block in model.FeedForwardBlocks)
        {
            block.RecordRouting = true;
        }

        using var parameters = new TrainableParameters(model, options.EffectiveTrainable, options.Precision);
        using var optimizer = CreateOptimizer(parameters);
        var (startStep, cursor, tokensSeen, elapsedBefore) = (0, new DataCursor(0, 0), 0L, 0.0);
        var lastCheckpoint = options.Resume ? store.Latest() : null;
        if (lastCheckpoint is not null)
        {
            var state = CheckpointStore.Load(lastCheckpoint, parameters, optimizer);
            if (state.DatasetFingerprint != fingerprint || state.Seed != options.Seed || state.MaxSteps != options.MaxSteps)
            {
                throw TrainingErrors.Mismatch(lastCheckpoint, "state.json", "the data, seed or max_steps differ from the interrupted run");
            }

            (startStep, cursor, tokensSeen, elapsedBefore) = (state.Step, new DataCursor(state.Epoch, state.Position), state.TokensSeen, state.ElapsedSeconds);
            set_rng_state(tensor(Convert.FromBase64String(state.TorchRngState), ScalarType.Byte));
            metricsLog.TruncateAfter(startStep);
        }
        else if (File.Exists(metricsLog.Path))
        {
            File.Delete(metricsLog.Path);
        }

        var stream = new BatchStream(data.Rows.Count, options.BatchSize, options.Seed, options.Shuffle, cursor);
        var steps = new List<StepMetrics>();
        var watch = Stopwatch.StartNew();
        var step = startStep;
        while (step < options.MaxSteps && !cancellation.IsCancellationRequested)
        {
            step++;
            var stepWatch = Stopwatch.StartNew();
            var lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            var metrics = RunStep(step, lr, data, stream, parameters, optimizer, lastCheckpoint);
            tokensSeen += metrics.Tokens;
            var elapsed = elapsedBefore + watch.Elapsed.TotalSeconds;
            metrics = metrics with
            {
                TokensPerSecond = metrics.Tokens / Math.Max(1e-9, stepWatch.Elapsed.TotalSeconds),
                ElapsedSeconds = elapsed,
                Epoch = stream.Cursor.Epoch,
            };
            steps.Add(metrics);
            metricsLog.Append(metrics);
            var eta = TimeSpan.FromSeconds(watch.Elapsed.TotalSeconds / (step - startStep) * (options.MaxSteps - step));
            onProgress?.Invoke(new TrainingProgress(metrics, options.MaxSteps, eta));
            var due = step == options.MaxSteps || cancellation.IsCancellationRequested || (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0);
            if (due)
            {
                var state = new TrainerState(step, stream.Cursor.Epoch, stream.Cursor.Position, options.Seed, options.MaxSteps, fingerprint,
                    tokensSeen, elapsed, Convert.ToBase64String(get_rng_state().data<byte>().ToArray()));
                lastCheckpoint = store.Save(state, parameters, optimizer);
            }
        }

        parameters.RestoreFloat32Model();
        LossCurvePlot.Write(metricsLog.ReadLosses(), lossCurve);
        return new TrainingResult(startStep, step, step >= options.MaxSteps, lastCheckpoint, steps, lossCurve);
    }

    private StepMetrics RunStep(int step, double lr, TrainingData data, BatchStream stream, TrainableParameters parameters, optim.Optimizer optimizer, string? lastCheckpoint)
    {
        parameters.ZeroGradients();
        var microBatches = Enumerable.Range(0, options.GradientAccumulationSteps)
            .Select(_ => stream.Next().Select(i => data.Rows[i]).ToList())
            .ToList();
        var totalTargets = Math.Max(1L, microBatches.Sum(rows => rows.Sum(r => (long)r.TargetMask().Count(m => m))));
        var (lmSum, balanceSum, zSum, tokens) = (0.0, 0.0, 0.0, 0L);
        var routing = new List<LayerRoutingStatistics>();
        foreach (var rows in microBatches)
        {
            using var scope = NewDisposeScope();
            using var batch = BatchCollator.Collate(rows, data.Packed, model.Device);
            var logits = model.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask); // (B, T, V)
            var vocabulary = logits.shape[2];
            var perToken = nn.functional.cross_entropy(
                logits.reshape(-1, vocabulary).to_type(ScalarType.Float32), batch.Targets.reshape(-1), reduction: nn.Reduction.None); // (B·T)
            var lmLoss = (perToken * batch.TargetMask.reshape(-1)).sum() / totalTargets; // scalar
            var router = RouterLossAggregator.Compute(model.FeedForwardBlocks, options.BalanceLoss, options.RouterZLossCoefficient > 0, options.FallbackTopK, batch.TokenMask);
            var loss = lmLoss;
            if (router.Balance is not null)
            {
                loss = loss + router.Balance * (options.BalanceLossCoefficient / options.GradientAccumulationSteps);
                balanceSum += router.Balance.item<float>() / options.GradientAccumulationSteps;
            }

            if (router.ZLoss is not null)
            {
                loss = loss + router.ZLoss * (options.RouterZLossCoefficient / options.GradientAccumulationSteps);
                zSum += router.ZLoss.item<float>() / options.GradientAccumulationSteps;
            }

            var lossValue = loss.item<float>();
            if (!float.IsFinite(lossValue))
            {
                throw TrainingErrors.NonFinite(step, "loss", lossValue, lastCheckpoint);
            }

            loss.backward();
            lmSum += lmLoss.item<float>();
            tokens += batch.TokenCount;
            routing.AddRange(router.Statistics);
        }

        parameters.GradientsToMasters();
        var gradNorm = nn.utils.clip_grad_norm_(parameters.TrainableMasters, options.MaxGradNorm > 0 ? options.MaxGradNorm : double.MaxValue);
        if (!double.IsFinite(gradNorm))
        {
            throw TrainingErrors.NonFinite(step, "gradient norm", gradNorm, lastCheckpoint);
        }

        optimizer.step();
        parameters.MastersToWorking();
        var merged = routing.GroupBy(r => r.Layer).OrderBy(g => g.Key).Select(g => LayerRoutingStatistics.Merge(g.ToList())).ToList();
        var total = lmSum + options.BalanceLossCoefficient * balanceSum + options.RouterZLossCoefficient * zSum;
        return new StepMetrics(step, total, lmSum, balanceSum, zSum, lr, gradNorm, tokens, 0, 0, 0, merged);
    }

    private optim.Optimizer CreateOptimizer(TrainableParameters parameters)
    {
        var decay = parameters.TrainableNames.Where(n => ParameterClassifier.DecaysWeight(n, parameters.Master(n).dim())).ToList();
        var noDecay = parameters.TrainableNames.Except(decay).ToList();
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup>();
        if (decay.Count > 0)
        {
            groups.Add(new TorchSharp.Modules.AdamW.ParamGroup(decay.Select(parameters.Master), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay));
        }

        if (noDecay.Count > 0)
        {
            groups.Add(new TorchSharp.Modules.AdamW.ParamGroup(noDecay.Select(parameters.Master), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, 0.0));
        }

        return optim.AdamW(groups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    private static string Fingerprint(TrainingData data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(data.Packed));
        foreach (var row in data.Rows)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.Ids.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.DocumentIds.AsSpan()));
            hash.AppendData(row.LossMask.Select(m => m ? (byte)1 : (byte)0).ToArray());
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
