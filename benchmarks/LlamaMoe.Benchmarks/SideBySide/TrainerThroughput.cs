using System.Diagnostics;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>What one timed training case measured.</summary>
/// <param name="Model"><c>dense</c> or <c>moe</c>.</param>
/// <param name="Precision">The precision.</param>
/// <param name="TokensPerSecond">Tokens (B·T per step) over the wall time of the timed steps; 0 when the case failed.</param>
/// <param name="StepMilliseconds">Mean wall time of one timed step.</param>
/// <param name="FlopsPerToken">Model FLOPs per token (<see cref="TrainingShape.TrainingFlopsPerToken"/>).</param>
/// <param name="FirstLoss">The LM loss of the first step (about ln V for random weights and tokens).</param>
/// <param name="LastLoss">The LM loss of the last step.</param>
/// <param name="Error">Why the case failed, or null.</param>
public sealed record TrainingCaseResult(
    string Model, BenchPrecision Precision, double TokensPerSecond, double StepMilliseconds, double FlopsPerToken, double FirstLoss, double LastLoss, string? Error)
{
    /// <summary>Achieved model FLOP/s.</summary>
    public double Flops => TokensPerSecond * FlopsPerToken;
}

/// <summary>
/// Times the project's real <see cref="Trainer"/> (AdamW, clipping at 1.0, cosine schedule, metrics log; Switch balance
/// loss on the MoE) on random tokens: <c>warmup + steps</c> optimizer steps of B rows of T tokens, the clock read after a
/// device synchronise at the end of the last warm-up step and again at the end of the last step (from the trainer's progress
/// callback, so the final checkpoint the trainer writes is not timed). Everything the trainer does per step (collating
/// the batch on the host, copying it to the device, the losses' host reads, the metrics line) is inside the timed window.
/// </summary>
public static class TrainerThroughput
{
    /// <summary>Runs one case; a failure (such as an exception in the trainer) is returned as <see cref="TrainingCaseResult.Error"/>.</summary>
    public static TrainingCaseResult Measure(SideBySideModels models, string name, BenchPrecision precision, Device device, int warmup, int steps, string folder)
    {
        var shape = models.Shape;
        try
        {
            manual_seed(0);
            using var model = models.Load(name, device);
            var flopsPerToken = shape.TrainingFlopsPerToken(models.ActiveNonEmbeddingParameters(model));
            var data = RandomRows(shape, warmup + steps, seed: 7);
            var options = new TrainerOptions
            {
                OutputDirectory = folder, MaxSteps = warmup + steps, BatchSize = shape.Batch, LearningRate = 1e-4, WarmupSteps = 1,
                BalanceLoss = name == "moe" ? BalanceLossKind.Switch : BalanceLossKind.None, Precision = precision.Compute(), Seed = 1,
                Resume = false,
            };
            using var tf32 = precision.Apply(device);
            var watch = new Stopwatch();
            var result = new Trainer(model, options).Train(data, progress =>
            {
                if (progress.Step == warmup)
                {
                    BenchPrecisions.Synchronize(device);
                    watch.Restart();
                }
                else if (progress.Step == warmup + steps)
                {
                    BenchPrecisions.Synchronize(device);
                    watch.Stop();
                }
            });
            var seconds = watch.Elapsed.TotalSeconds;
            return new TrainingCaseResult(name, precision, steps * shape.TokensPerStep / seconds, seconds * 1000 / steps, flopsPerToken,
                result.Steps[0].LmLoss, result.Steps[^1].LmLoss, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new TrainingCaseResult(name, precision, 0, 0, 0, double.NaN, double.NaN, Failure(ex));
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary><paramref name="steps"/> batches of B unpadded rows of T uniformly random token ids (every position but the first is a target).</summary>
    public static TrainingData RandomRows(TrainingShape shape, int steps, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var examples = Enumerable.Range(0, shape.Batch * steps)
            .Select(_ => EncodedExample.AllTargets(Enumerable.Range(0, shape.Sequence).Select(_ => random.NextInt(shape.Vocabulary)).ToArray()))
            .ToList();
        return new TrainingData(SequencePacker.Build(examples, new PackingOptions(shape.Sequence, Pack: false)), Packed: false);
    }

    /// <summary>The exception's type and first message line, innermost first when wrapped.</summary>
    public static string Failure(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        var message = inner.Message.Split('\n', 2)[0].Trim();
        return $"{inner.GetType().Name}: {(message.Length > 160 ? message[..160] + "…" : message)}";
    }
}
