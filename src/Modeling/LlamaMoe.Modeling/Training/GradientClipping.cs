using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>Global-norm gradient clipping on a flat gradient buffer, without reading anything back to the host.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Computes the L2 norm of <paramref name="gradients"/> and, when <paramref name="maxNorm"/> is positive, scales them
    /// in place by <c>min(1, maxNorm / (norm + 1e-6))</c> (the rule of PyTorch's <c>clip_grad_norm_</c>).
    /// </summary>
    /// <param name="gradients">The flat float32 gradients <c>(P)</c>.</param>
    /// <param name="maxNorm">The largest allowed norm; zero or less only measures.</param>
    /// <returns>The norm before clipping, a float32 scalar on the gradients' device (non-finite when a gradient is).</returns>
    public static Tensor ClipInPlace(Tensor gradients, double maxNorm)
    {
        using var noGrad = no_grad();
        var norm = gradients.norm(); // scalar
        if (maxNorm > 0)
        {
            using var scope = NewDisposeScope();
            var factor = norm.add(1e-6).reciprocal_().mul_(maxNorm).clamp_max_(1.0); // scalar
            gradients.mul_(factor);
        }

        return norm;
    }
}
