using LlamaMoe.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// Rotary position embedding in the Hugging Face "rotate half" layout, with linear, dynamic-NTK and llama3 frequency
/// scaling. Produces <c>(cos, sin)</c> of shape <c>(B, T, head_dim)</c> for given position ids.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly LlamaConfig config;
    private readonly double[] baseInverseFrequencies;
    private Tensor? cachedInverseFrequencies;

    /// <summary>Precomputes the inverse frequencies for <paramref name="config"/>.</summary>
    public RotaryEmbedding(LlamaConfig config)
    {
        this.config = config;
        baseInverseFrequencies = InverseFrequencies(config, config.RopeTheta);
    }

    /// <summary>The (scaled) inverse frequencies, one per rotated pair (<c>head_dim / 2</c>).</summary>
    public IReadOnlyList<double> InverseFrequencyValues => baseInverseFrequencies;

    /// <summary>Computes cos and sin <c>(B, T, head_dim)</c> in <paramref name="dtype"/> for <paramref name="positionIds"/> <c>(B, T)</c>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var frequencies = baseInverseFrequencies;
        var positionScale = 1.0;
        if (config.RopeScaling is { Type: RopeScaling.Linear } linear)
        {
            positionScale = 1.0 / linear.Factor;
        }
        else if (config.RopeScaling is { Type: RopeScaling.Dynamic } dynamic)
        {
            var seqLen = positionIds.max().item<long>() + 1;
            var original = dynamic.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;
            if (seqLen > original)
            {
                var dim = config.HeadDim;
                var theta = config.RopeTheta * Math.Pow((dynamic.Factor * seqLen / original) - (dynamic.Factor - 1), dim / (dim - 2.0));
                frequencies = InverseFrequencies(config, theta);
            }
        }

        var inv = ReferenceEquals(frequencies, baseInverseFrequencies)
            ? BaseInverseFrequencies(positionIds.device)                                               // (hd/2), cached per device
            : torch.tensor(frequencies.Select(f => (float)f).ToArray(), device: positionIds.device);   // (hd/2)
        var positions = positionIds.to_type(ScalarType.Float32);                                          // (B, T)
        if (positionScale != 1.0)
        {
            positions = positions * positionScale;
        }

        var angles = positions.unsqueeze(-1) * inv;             // (B, T, hd/2)
        var emb = torch.cat([angles, angles], dim: -1);         // (B, T, hd)
        var cos = emb.cos().to_type(dtype).MoveToOuterDisposeScope();
        var sin = emb.sin().to_type(dtype).MoveToOuterDisposeScope();
        return (cos, sin);
    }

    /// <summary>Applies the rotation to <paramref name="x"/> <c>(B, H, T, hd)</c> with cos/sin <c>(B, T, hd)</c>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var c = cos.unsqueeze(1);                              // (B, 1, T, hd)
        var s = sin.unsqueeze(1);                              // (B, 1, T, hd)
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);                        // (B, H, T, hd/2)
        var x2 = x.narrow(-1, half, half);                     // (B, H, T, hd/2)
        var rotated = torch.cat([-x2, x1], dim: -1);           // (B, H, T, hd)
        return ((x * c) + (rotated * s)).MoveToOuterDisposeScope();
    }

    // The base frequencies live on the device once: a fresh host→device upload from pageable memory in every forward
    // would block the host until the GPU stream drained.
    private Tensor BaseInverseFrequencies(Device device)
    {
        if (cachedInverseFrequencies is null || cachedInverseFrequencies.IsInvalid || cachedInverseFrequencies.device.type != device.type || cachedInverseFrequencies.device.index != device.index)
        {
            cachedInverseFrequencies?.Dispose();
            cachedInverseFrequencies = torch.tensor(baseInverseFrequencies.Select(f => (float)f).ToArray(), device: device).DetachFromDisposeScope(); // (hd/2)
        }

        return cachedInverseFrequencies.alias();
    }

    private static double[] InverseFrequencies(LlamaConfig config, double theta)
    {
        var dim = config.HeadDim;
        var inv = new double[dim / 2];
        for (var i = 0; i < inv.Length; i++)
        {
            // As Hugging Face: 1 / theta^(2i/dim), computed in float32.
            inv[i] = 1.0f / (float)Math.Pow(theta, (float)(2 * i) / dim);
        }

        if (config.RopeScaling is { Type: RopeScaling.Llama3 } s)
        {
            ApplyLlama3Scaling(inv, s);
        }

        return inv;
    }

    private static void ApplyLlama3Scaling(double[] inv, RopeScaling s)
    {
        var original = (double)s.OriginalMaxPositionEmbeddings!.Value;
        var low = s.LowFreqFactor!.Value;
        var high = s.HighFreqFactor!.Value;
        var lowFreqWavelength = original / low;
        var highFreqWavelength = original / high;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelength = 2 * Math.PI / inv[i];
            if (wavelength < highFreqWavelength)
            {
                continue; // high frequency: unchanged
            }

            if (wavelength > lowFreqWavelength)
            {
                inv[i] /= s.Factor; // low frequency: fully interpolated
                continue;
            }

            var smooth = ((original / wavelength) - low) / (high - low);
            inv[i] = ((1 - smooth) * inv[i] / s.Factor) + (smooth * inv[i]);
        }
    }
}
