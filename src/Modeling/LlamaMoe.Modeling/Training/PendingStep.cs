using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// The metrics of one optimizer step while they are still on the device: the loss terms and gradient norm as one small
/// float32 vector and the per-layer routing rows. <see cref="Resolve"/> reads them back in one copy. The trainer resolves
/// a step only after it has queued the next one on a CUDA device, so the host never waits for the GPU to drain in the
/// hot loop; on the CPU it resolves at once (nothing runs asynchronously there).
/// </summary>
internal sealed class PendingStep : IDisposable
{
    private readonly Tensor scalars;
    private readonly Tensor? routing;
    private readonly int[] layers;

    /// <summary>Stacks the step's device values into tensors it owns (outside any dispose scope); the inputs stay the caller's.</summary>
    /// <param name="step">The 1-based step.</param>
    /// <param name="learningRate">The learning rate used.</param>
    /// <param name="tokens">Tokens in the step (known on the host).</param>
    /// <param name="terms">Loss terms <c>[lm, balance, z, kd]</c> (kd: the T²-scaled KL per supervised token, 0 without distillation), each a scalar on the device (sums over micro-batches).</param>
    /// <param name="gradientNorm">The gradient norm before clipping, a scalar on the device.</param>
    /// <param name="routingRows">Per micro-batch and layer, the routing statistics rows.</param>
    public PendingStep(int step, double learningRate, long tokens, Tensor[] terms, Tensor gradientNorm, IReadOnlyList<RoutingRow> routingRows)
    {
        Step = step;
        LearningRate = learningRate;
        Tokens = tokens;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        scalars = stack(terms.Append(gradientNorm.to_type(ScalarType.Float32)).Select(t => t.detach().to_type(ScalarType.Float32).reshape(1)), 0)
            .reshape(-1).DetachFromDisposeScope(); // (5): lm, balance, z, kd, grad norm
        var byLayer = routingRows.GroupBy(r => r.Layer).OrderBy(g => g.Key).ToList();
        layers = byLayer.Select(g => g.Key).ToArray();
        routing = byLayer.Count == 0
            ? null
            : stack(byLayer.Select(g => stack(g.Select(r => r.Values), 0).sum(dim: 0L)), 0).DetachFromDisposeScope(); // (L, E + 2)
        ReadyOnHost = scalars.device.type != DeviceType.CUDA;
    }

    /// <summary>The 1-based step.</summary>
    public int Step { get; }

    /// <summary>The learning rate used.</summary>
    public double LearningRate { get; }

    /// <summary>Tokens in the step.</summary>
    public long Tokens { get; }

    /// <summary>False when the values live on an asynchronous device, so reading them now would stall the host.</summary>
    public bool ReadyOnHost { get; }

    /// <summary>Reads the values back (one copy each for the scalars and the routing rows) and builds the metrics.</summary>
    /// <param name="balanceCoefficient">Weight of the balance loss in the total.</param>
    /// <param name="zCoefficient">Weight of the z-loss in the total.</param>
    /// <param name="lastCheckpoint">The last complete checkpoint, named in a non-finite error.</param>
    /// <param name="distillation">The distillation settings (the weights of the LM and KL terms), or null.</param>
    /// <exception cref="LlamaMoeException">LMOE3102 when the loss or the gradient norm is not finite.</exception>
    public StepMetrics Resolve(double balanceCoefficient, double zCoefficient, string? lastCheckpoint, DistillationSettings? distillation = null)
    {
        var values = scalars.cpu().data<float>().ToArray();
        var (lm, balance, z, kd, gradNorm) = ((double)values[0], (double)values[1], (double)values[2], (double)values[3], (double)values[4]);
        var total = (distillation is null ? lm : (distillation.LmScale * lm) + (distillation.Weight * kd)) + (balanceCoefficient * balance) + (zCoefficient * z);
        if (!double.IsFinite(total))
        {
            throw TrainingErrors.NonFinite(Step, "loss", total, lastCheckpoint);
        }

        if (!double.IsFinite(gradNorm))
        {
            throw TrainingErrors.NonFinite(Step, "gradient norm", gradNorm, lastCheckpoint);
        }

        var statistics = new List<LayerRoutingStatistics>();
        if (routing is not null)
        {
            var rows = routing.cpu().data<float>().ToArray();
            var width = (int)routing.shape[1];
            for (var i = 0; i < layers.Length; i++)
            {
                statistics.Add(LayerRoutingStatistics.FromRow(layers[i], rows.AsSpan(i * width, width)));
            }
        }

        return new StepMetrics(Step, total, lm, balance, z, LearningRate, gradNorm, Tokens, 0, 0, 0, statistics, distillation is null ? null : kd);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        scalars.Dispose();
        routing?.Dispose();
    }
}
