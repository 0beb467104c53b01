using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>How a student is distilled from a teacher during training (knowledge distillation, Hinton et al. 2015).</summary>
/// <param name="Weight">w in <c>(1 − w)·LM + w·T²·KL(teacher ‖ student)</c>, in [0, 1].</param>
/// <param name="Temperature">T: both distributions are softmax(logits / T).</param>
/// <param name="ChunkPositions">Supervised positions per chunk of the KL computation (bounds the float32 temporaries to chunk × vocabulary).</param>
public sealed record DistillationSettings(double Weight = 0.5, double Temperature = 1.0, int ChunkPositions = 1024)
{
    /// <summary>The factor of the KL term in the loss: <c>w·T²</c>.</summary>
    public double KlScale => Weight * Temperature * Temperature;

    /// <summary>The factor of the LM term in the loss: <c>1 − w</c>.</summary>
    public double LmScale => 1 - Weight;
}

/// <summary>
/// The distillation term <c>T²·Σ_positions KL(softmax(z_t/T) ‖ softmax(z_s/T))</c> and its exact gradient with respect to the
/// student's logits, <c>T·(softmax(z_s/T) − softmax(z_t/T))</c>, computed chunk by chunk over the positions without an
/// autograd graph. The trainer back-propagates the gradient through the student with a surrogate
/// <c>Σ z_s · stop_gradient(g)</c>, so the KL adds one (N, V) gradient tensor and one float32 chunk at a time to the
/// memory of a step, whatever the vocabulary.
/// </summary>
public static class DistillationLoss
{
    /// <summary>
    /// Computes the summed, T²-scaled KL and its gradient with respect to <paramref name="studentLogits"/>.
    /// </summary>
    /// <param name="studentLogits">(N, V) student logits at the supervised positions (any float dtype; not modified).</param>
    /// <param name="teacherLogits">(N, V) teacher logits at the same positions.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="chunkPositions">Positions per chunk (≥ 1).</param>
    /// <returns>The detached float32 scalar <c>T²·Σ KL</c> and the (N, V) gradient in the student's dtype.</returns>
    public static (Tensor KlSum, Tensor Gradient) SumAndGradient(Tensor studentLogits, Tensor teacherLogits, double temperature, int chunkPositions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkPositions, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperature);
        var positions = studentLogits.shape[0];
        using var noGrad = no_grad();
        var gradient = empty_like(studentLogits); // (N, V)
        var klSum = zeros(1, dtype: ScalarType.Float32, device: studentLogits.device);
        for (long start = 0; start < positions; start += chunkPositions)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(chunkPositions, positions - start);
            var student = nn.functional.log_softmax(studentLogits.narrow(0, start, length).to_type(ScalarType.Float32) / temperature, dim: 1); // (C, V)
            var teacher = nn.functional.log_softmax(teacherLogits.narrow(0, start, length).to_type(ScalarType.Float32) / temperature, dim: 1); // (C, V)
            var teacherProbabilities = teacher.exp(); // (C, V)
            var kl = (teacherProbabilities * (teacher - student)).sum(); // scalar
            klSum.add_(kl * (temperature * temperature));
            gradient.narrow(0, start, length).copy_(((student.exp() - teacherProbabilities) * temperature).to_type(studentLogits.dtype));
        }

        return (klSum.reshape(Array.Empty<long>()), gradient);
    }

    /// <summary>
    /// The distillation term of one micro-batch, ready to back-propagate: a scalar whose gradient with respect to
    /// <paramref name="studentLogits"/> is <c>scale · T·(p_s − p_t)</c> at the supervised positions and 0 elsewhere, and the
    /// detached value <c>T²·Σ KL</c> (not scaled) for the metrics.
    /// </summary>
    /// <param name="studentLogits">(B, T, V) student logits (part of the autograd graph).</param>
    /// <param name="teacherLogits">(B, T, V) teacher logits (no graph).</param>
    /// <param name="targetMask">(B, T) float or bool mask of the supervised positions.</param>
    /// <param name="settings">Temperature and chunk size.</param>
    /// <param name="scale">Factor of the KL sum in the loss (<c>w / supervised tokens of the step</c>).</param>
    public static (Tensor Surrogate, Tensor KlSum) ForBatch(Tensor studentLogits, Tensor teacherLogits, Tensor targetMask, DistillationSettings settings, double scale)
    {
        var vocabulary = studentLogits.shape[2];
        var supervised = targetMask.reshape(-1).to_type(ScalarType.Bool).nonzero().reshape(-1); // (N)
        var student = studentLogits.reshape(-1, vocabulary).index_select(0, supervised); // (N, V)
        var teacher = teacherLogits.reshape(-1, vocabulary).index_select(0, supervised); // (N, V)
        var (klSum, gradient) = SumAndGradient(student.detach(), teacher, settings.Temperature, settings.ChunkPositions);
        var surrogate = (student * gradient).sum().to_type(ScalarType.Float32) * scale; // scalar; d/dz_s = scale·gradient
        return (surrogate, klSum);
    }
}
