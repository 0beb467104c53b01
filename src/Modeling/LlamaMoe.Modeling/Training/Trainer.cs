using System.Diagnostics;
using System.Security.Cryptography;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Trains an <see cref="ICausalLanguageModel"/> on packed or padded rows: AdamW (no decay on norms, biases and
/// vectors), warmup + cosine schedule, gradient clipping and accumulation, optional bfloat16 compute with float32
/// masters, router balance and z-losses, frozen parameter groups, metrics.jsonl (callers draw the loss curve from it) and exact resume. SFT
/// stages and continual pre-training use the same trainer; only the rows' loss masks differ.
/// </summary>
public sealed class Trainer
{
    private readonly ICausalLanguageModel model;
    private readonly TrainerOptions options;
    private readonly ICausalLanguageModel? teacher;

    /// <summary>Creates a trainer; options are validated here (LMOE3101).</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="teacher">
    /// The teacher when <see cref="TrainerOptions.Distillation"/> is set: run in inference mode (no graph, eval) on the same
    /// micro-batches, on the student's device, in the dtype it was loaded in. It is never modified, so resume needs no state of it.
    /// </param>
    public Trainer(ICausalLanguageModel model, TrainerOptions options, ICausalLanguageModel? teacher = null)
    {
        options.Validate();
        if ((teacher is null) != (options.Distillation is null))
        {
            throw TrainingErrors.BadOption("distillation", teacher is null ? "distillation needs a teacher model" : "a teacher model was given without distillation settings");
        }

        this.model = model;
        this.options = options;
        this.teacher = teacher;
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
        var schedule = new LearningRateSchedule(options.LearningRate, options.EffectiveWarmupSteps, options.MaxSteps, options.MinLearningRateRatio);
        foreach (var block in model.FeedForwardBlocks)
        {
            block.RecordRouting = true;
        }

        using var parameters = new TrainableParameters(model, options.EffectiveTrainable, options.Precision);
        using var optimizer = new FlatAdamW(parameters, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
        using var matmulPrecision = MatmulPrecisionScope.For(options.Precision, model.Device);
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
        var pending = new Queue<PendingStep>();
        var watch = Stopwatch.StartNew();
        var lastResolved = (Step: startStep, Seconds: 0.0);
        var step = startStep;

        void ResolvePending(bool all)
        {
            while (pending.Count > 0 && (all || pending.Peek().ReadyOnHost || pending.Count > 1))
            {
                using var done = pending.Dequeue();
                var metrics = done.Resolve(options.BalanceLossCoefficient, options.RouterZLossCoefficient, lastCheckpoint, options.Distillation);
                tokensSeen += metrics.Tokens;
                var now = watch.Elapsed.TotalSeconds;
                metrics = metrics with
                {
                    TokensPerSecond = metrics.Tokens * (done.Step - lastResolved.Step) / Math.Max(1e-9, now - lastResolved.Seconds),
                    ElapsedSeconds = elapsedBefore + now,
                    Epoch = stream.Cursor.Epoch,
                };
                lastResolved = (done.Step, now);
                steps.Add(metrics);
                metricsLog.Append(metrics);
                var eta = TimeSpan.FromSeconds(now / (done.Step - startStep) * (options.MaxSteps - done.Step));
                onProgress?.Invoke(new TrainingProgress(metrics, options.MaxSteps, eta));
            }
        }

        try
        {
            while (step < options.MaxSteps && !cancellation.IsCancellationRequested)
            {
                step++;
                var lr = schedule.At(step);
                pending.Enqueue(RunStep(step, lr, data, stream, parameters, optimizer));

                // On CUDA the previous step is read back only now, after this one is queued, so the GPU never idles
                // waiting for the host; a checkpoint (and the end) first resolves everything it would save.
                var due = step == options.MaxSteps || cancellation.IsCancellationRequested || (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0);
                ResolvePending(all: due);
                if (!due && cancellation.IsCancellationRequested)
                {
                    due = true; // a progress callback asked to stop: checkpoint this step
                    ResolvePending(all: true);
                }

                if (due)
                {
                    var state = new TrainerState(step, stream.Cursor.Epoch, stream.Cursor.Position, options.Seed, options.MaxSteps, fingerprint,
                        tokensSeen, elapsedBefore + watch.Elapsed.TotalSeconds, Convert.ToBase64String(get_rng_state().data<byte>().ToArray()));
                    lastCheckpoint = store.Save(state, parameters, optimizer);
                }
            }
        }
        finally
        {
            foreach (var unread in pending)
            {
                unread.Dispose();
            }
        }

        parameters.RestoreFloat32Model();
        return new TrainingResult(startStep, step, step >= options.MaxSteps, lastCheckpoint, steps, metricsLog.Path);
    }

    /// <summary>
    /// Queues one optimizer step (forward, backward and update for every micro-batch) without reading anything back:
    /// the loss terms, gradient norm and routing statistics stay on the device in the returned <see cref="PendingStep"/>.
    /// </summary>
    private PendingStep RunStep(int step, double lr, TrainingData data, BatchStream stream, TrainableParameters parameters, FlatAdamW optimizer)
    {
        parameters.ZeroGradients();
        var microBatches = Enumerable.Range(0, options.GradientAccumulationSteps)
            .Select(_ => stream.Next().Select(i => data.Rows[i]).ToList())
            .ToList();
        var totalTargets = Math.Max(1L, microBatches.Sum(rows => rows.Sum(r => (long)r.TargetMask().Count(m => m))));
        var tokens = 0L;
        var routing = new List<RoutingRow>();
        using var scope = NewDisposeScope();
        var terms = new[] { zeros(1, device: model.Device), zeros(1, device: model.Device), zeros(1, device: model.Device), zeros(1, device: model.Device) }; // lm, balance, z, kd
        teacher?.Module.eval();
        foreach (var rows in microBatches)
        {
            using var microScope = NewDisposeScope();
            using var batch = BatchCollator.Collate(rows, data.Packed, model.Device);
            var logits = model.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask); // (B, T, V)
            var vocabulary = logits.shape[2];
            var perToken = nn.functional.cross_entropy(
                logits.reshape(-1, vocabulary).to_type(ScalarType.Float32), batch.Targets.reshape(-1), reduction: nn.Reduction.None); // (B·T)
            var lmLoss = (perToken * batch.TargetMask.reshape(-1)).sum() / totalTargets; // scalar
            var router = RouterLossAggregator.Compute(model.FeedForwardBlocks, options.BalanceLoss, options.RouterZLossCoefficient > 0, options.FallbackTopK, batch.TokenMask);
            var loss = lmLoss;
            if (options.Distillation is { } distillation)
            {
                var teacherLogits = TeacherLogits(batch); // (B, T, V)
                var (surrogate, klSum) = DistillationLoss.ForBatch(logits, teacherLogits, batch.TargetMask, distillation, distillation.Weight / totalTargets);
                loss = (lmLoss * distillation.LmScale) + surrogate;
                terms[3] = (terms[3] + (klSum / totalTargets)).MoveToOuterDisposeScope();
            }

            if (router.Balance is not null)
            {
                loss = loss + router.Balance * (options.BalanceLossCoefficient / options.GradientAccumulationSteps);
                terms[1] = (terms[1] + (router.Balance.detach() / options.GradientAccumulationSteps)).MoveToOuterDisposeScope();
            }

            if (router.ZLoss is not null)
            {
                loss = loss + router.ZLoss * (options.RouterZLossCoefficient / options.GradientAccumulationSteps);
                terms[2] = (terms[2] + (router.ZLoss.detach() / options.GradientAccumulationSteps)).MoveToOuterDisposeScope();
            }

            loss.backward();
            terms[0] = (terms[0] + lmLoss.detach()).MoveToOuterDisposeScope();
            tokens += batch.TokenCount;
            routing.AddRange(router.Statistics.Select(r => r with { Values = r.Values.MoveToOuterDisposeScope() }));
        }

        parameters.GradientsToMasters();
        var gradNorm = GradientClipping.ClipInPlace(parameters.MasterGradientBuffer, options.MaxGradNorm); // scalar, on the device
        optimizer.Step(lr);
        parameters.MastersToWorking();
        return new PendingStep(step, lr, tokens, terms, gradNorm, routing);
    }

    /// <summary>The teacher's logits for <paramref name="batch"/>: no graph, eval mode, its own dtype.</summary>
    private Tensor TeacherLogits(TrainingBatch batch)
    {
        using var noGrad = no_grad();
        return teacher!.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask).detach(); // (B, T, V)
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
