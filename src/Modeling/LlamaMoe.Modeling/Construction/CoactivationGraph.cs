using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Accumulates v1's neuron co-activation graph (spec §1.2 D): for every batch of per-neuron activations
/// <c>A (N, I)</c>, add <c>clamp(k(A)ᵀ k(A), max = threshold)</c> to an <c>(I, I)</c> float64 adjacency.
/// </summary>
public sealed class CoactivationGraph : IDisposable
{
    private readonly CoactivationKernel kernel;
    private readonly double threshold;
    private Tensor adjacency;

    /// <summary>Creates an empty graph over <paramref name="neurons"/> neurons on <paramref name="device"/>.</summary>
    public CoactivationGraph(int neurons, CoactivationKernel kernel = CoactivationKernel.L1, double threshold = 1.0, Device? device = null)
    {
        Neurons = neurons;
        this.kernel = kernel;
        this.threshold = threshold;
        adjacency = zeros(new long[] { neurons, neurons }, ScalarType.Float64, device).DetachFromDisposeScope(); // (I, I)
    }

    /// <summary>Intermediate size I.</summary>
    public int Neurons { get; }

    /// <summary>Adds one batch of activations <c>(N, I)</c> (the outputs of up_proj or gate_proj, any float type).</summary>
    public void Add(Tensor activations)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = activations.detach().reshape(-1, Neurons).to(ScalarType.Float32).to(adjacency.device); // (N, I)
        a = kernel switch
        {
            CoactivationKernel.L1 => a.abs(),
            CoactivationKernel.L2 => a.square(),
            _ => a,
        };
        var products = a.t().matmul(a).clamp_max(threshold); // (I, I)
        adjacency.add_(products.to(ScalarType.Float64));
    }

    /// <summary>The accumulated adjacency as a row-major float array with a zero diagonal.</summary>
    public float[] ToArray()
    {
        using var scope = NewDisposeScope();
        var copy = adjacency.clone(); // (I, I)
        copy.diagonal().zero_();
        return copy.to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => adjacency.Dispose();
}
