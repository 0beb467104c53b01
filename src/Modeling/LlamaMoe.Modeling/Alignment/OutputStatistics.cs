using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>
/// Per-dimension mean and (population) variance of a module's output over calibration tokens, accumulated in float64
/// from sums and sums of squares (exact merging over batches of any size).
/// </summary>
public sealed class OutputStatistics : IDisposable
{
    private readonly Tensor sum;
    private readonly Tensor sumOfSquares;

    /// <summary>Creates empty statistics of width <paramref name="hiddenSize"/> on <paramref name="device"/>.</summary>
    public OutputStatistics(int hiddenSize, Device? device = null)
    {
        sum = zeros(hiddenSize, ScalarType.Float64, device);          // (H)
        sumOfSquares = zeros(hiddenSize, ScalarType.Float64, device); // (H)
    }

    /// <summary>Width H.</summary>
    public int HiddenSize => (int)sum.shape[0];

    /// <summary>Tokens seen.</summary>
    public long Count { get; private set; }

    /// <summary>Adds the outputs <c>(…, H)</c> of some tokens.</summary>
    public void Add(Tensor outputs)
    {
        using var scope = NewDisposeScope();
        var flat = outputs.detach().reshape(-1, sum.shape[0]).to(ScalarType.Float64).to(sum.device); // (N, H)
        sum.add_(flat.sum(new long[] { 0 }));
        sumOfSquares.add_(flat.square().sum(new long[] { 0 }));
        Count += flat.shape[0];
    }

    /// <summary>The mean <c>(H)</c>, float64 (the caller owns it).</summary>
    public Tensor Mean() => sum.div(Count);

    /// <summary>The population variance <c>(H)</c>, float64, clamped at 0 (the caller owns it).</summary>
    public Tensor Variance()
    {
        using var scope = NewDisposeScope();
        var mean = sum.div(Count);                                    // (H)
        return sumOfSquares.div(Count).sub(mean.square()).clamp_min(0).MoveToOuterDisposeScope(); // (H)
    }

    /// <summary>
    /// v2's affine correction that maps this distribution onto <paramref name="reference"/>: <c>a = sqrt(var_ref / var)</c>
    /// (1 where this variance is 0) and <c>b = mean_ref − mean · a</c>, both <c>(H)</c> float64 (the caller owns them).
    /// </summary>
    public (Tensor Scale, Tensor Bias) AffineTo(OutputStatistics reference)
    {
        using var scope = NewDisposeScope();
        var variance = Variance();                                    // (H)
        var ratio = reference.Variance().to(variance.device).div(variance.clamp_min(double.Epsilon)); // (H)
        var scale = where(variance.gt(0), ratio.sqrt(), ones_like(variance)); // (H)
        var bias = reference.Mean().to(variance.device).sub(Mean().mul(scale)); // (H)
        return (scale.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        sum.Dispose();
        sumOfSquares.Dispose();
    }
}
