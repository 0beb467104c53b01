using System.Diagnostics;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>Median wall milliseconds of the phases of one training step (profiling pass, synchronised between phases).</summary>
/// <param name="Model"><c>dense</c> or <c>moe</c>.</param>
/// <param name="Precision">The precision.</param>
/// <param name="ForwardMs">Forward and losses: model forward, cross-entropy on float32 logits, router balance loss (MoE).</param>
/// <param name="BackwardMs"><c>loss.backward()</c>.</param>
/// <param name="OptimizerMs">Gradients to float32 masters (bf16), global-norm clipping at 1.0, AdamW step, masters back to the working copy (bf16).</param>
/// <param name="Error">Why the pass failed, or null.</param>
public sealed record PhaseProfile(string Model, BenchPrecision Precision, double ForwardMs, double BackwardMs, double OptimizerMs, string? Error)
{
    /// <summary>The sum of the phases.</summary>
    public double TotalMs => ForwardMs + BackwardMs + OptimizerMs;
}

/// <summary>Bfloat16 no-grad forward throughput of one model (evaluation).</summary>
/// <param name="Model"><c>dense</c> or <c>moe</c>.</param>
/// <param name="TokensPerSecond">B·T tokens per second of forward passes; 0 when it failed.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record EvalResult(string Model, double TokensPerSecond, string? Error);

/// <summary>
/// Where the time of a training step goes. The <see cref="Trainer"/> does not expose its phases, so this is a separate,
/// hand-written pass with the same computation as the trainer's step (the same <see cref="TrainableParameters"/> masters,
/// the same losses via <see cref="RouterLossAggregator"/>, on-device clipping and the flat AdamW over the masters), with a device
/// synchronise before and after every phase. It is never mixed into the timed trainer runs; the sum of its phases next to
/// the trainer's step time shows the trainer's own overhead (host collation, host reads, metrics).
/// </summary>
public static class PhaseProfiler
{
    /// <summary>Profiles <paramref name="steps"/> steps after one untimed step.</summary>
    public static PhaseProfile Profile(SideBySideModels models, string name, BenchPrecision precision, Device device, int steps)
    {
        var shape = models.Shape;
        var (forward, backward, update) = (new List<double>(), new List<double>(), new List<double>());
        try
        {
            manual_seed(0);
            using var model = models.Load(name, device);
            foreach (var block in model.FeedForwardBlocks)
            {
                block.RecordRouting = true;
            }

            using var tf32 = precision.Apply(device);
            using var parameters = new TrainableParameters(model, ParameterGroup.All, precision.Compute());
            using var optimizer = new FlatAdamW(parameters, 0.9, 0.999, 1e-8, 0.0);
            var balance = name == "moe" ? BalanceLossKind.Switch : BalanceLossKind.None;
            for (var step = 0; step <= steps; step++)
            {
                using var scope = NewDisposeScope();
                parameters.ZeroGradients();
                var tokens = randint(0, shape.Vocabulary, [shape.Batch, shape.Sequence + 1], dtype: ScalarType.Int64, device: device); // (B, T+1)
                var inputs = tokens.narrow(1, 0, shape.Sequence); // (B, T)
                var targets = tokens.narrow(1, 1, shape.Sequence).reshape(-1); // (B·T)
                BenchPrecisions.Synchronize(device);
                var watch = Stopwatch.StartNew();

                var logits = ((ICausalLanguageModel)model).Forward(inputs, null, null); // (B, T, V)
                var loss = nn.functional.cross_entropy(logits.reshape(-1, shape.Vocabulary).to_type(ScalarType.Float32), targets); // scalar
                var router = RouterLossAggregator.Compute(model.FeedForwardBlocks, balance, zLoss: false, shape.TopK, null);
                if (router.Balance is not null)
                {
                    loss = loss + (router.Balance * 0.01); // scalar
                }

                var t1 = Lap(device, watch);
                loss.backward();
                var t2 = Lap(device, watch);
                parameters.GradientsToMasters();
                using var norm = GradientClipping.ClipInPlace(parameters.MasterGradientBuffer, 1.0);
                optimizer.Step(1e-4);
                parameters.MastersToWorking();
                var t3 = Lap(device, watch);
                if (step > 0)
                {
                    forward.Add(t1);
                    backward.Add(t2 - t1);
                    update.Add(t3 - t2);
                }
            }

            parameters.RestoreFloat32Model();
            return new PhaseProfile(name, precision, Median(forward), Median(backward), Median(update), null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new PhaseProfile(name, precision, 0, 0, 0, TrainerThroughput.Failure(ex));
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>
    /// Forward throughput of the model cast to bfloat16 under <c>no_grad</c> on B×T random tokens (logits computed,
    /// no loss): <paramref name="passes"/> timed passes after two untimed ones, synchronised at both ends.
    /// </summary>
    public static EvalResult Evaluate(SideBySideModels models, string name, Device device, int passes)
    {
        var shape = models.Shape;
        try
        {
            manual_seed(0);
            using var model = models.Load(name, device);
            model.eval();
            model.to(ScalarType.BFloat16);
            using var noGrad = no_grad();
            using var tokens = randint(0, shape.Vocabulary, [shape.Batch, shape.Sequence], dtype: ScalarType.Int64, device: device); // (B, T)
            var watch = new Stopwatch();
            for (var pass = -2; pass < passes; pass++)
            {
                if (pass == 0)
                {
                    BenchPrecisions.Synchronize(device);
                    watch.Start();
                }

                using var logits = model.forward(tokens); // (B, T, V)
            }

            BenchPrecisions.Synchronize(device);
            watch.Stop();
            return new EvalResult(name, passes * shape.TokensPerStep / watch.Elapsed.TotalSeconds, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new EvalResult(name, 0, TrainerThroughput.Failure(ex));
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static double Lap(Device device, Stopwatch watch)
    {
        BenchPrecisions.Synchronize(device);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
