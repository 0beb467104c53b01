using LlamaMoe.Modeling.Construction;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Moe;

/// <summary>Test-only dense SwiGLU MLP with seeded random weights: <c>down( SiLU(gate x) ⊙ up x )</c>.</summary>
internal sealed class DenseSwiGlu : IDisposable
{
    public DenseSwiGlu(int hidden, int intermediate, long seed, bool bias = false)
    {
        var generator = new Generator((ulong)seed);
        Gate = (randn(intermediate, hidden, generator: generator) / Math.Sqrt(hidden)).DetachFromDisposeScope(); // (I, H)
        Up = (randn(intermediate, hidden, generator: generator) / Math.Sqrt(hidden)).DetachFromDisposeScope(); // (I, H)
        Down = (randn(hidden, intermediate, generator: generator) / Math.Sqrt(intermediate)).DetachFromDisposeScope(); // (H, I)
        if (bias)
        {
            GateBias = randn(intermediate, generator: generator).mul_(0.1).DetachFromDisposeScope();
            UpBias = randn(intermediate, generator: generator).mul_(0.1).DetachFromDisposeScope();
            DownBias = randn(hidden, generator: generator).mul_(0.1).DetachFromDisposeScope();
        }
    }

    public Tensor Gate { get; }

    public Tensor Up { get; }

    public Tensor Down { get; }

    public Tensor? GateBias { get; }

    public Tensor? UpBias { get; }

    public Tensor? DownBias { get; }

    public DenseMlpWeights Weights => new(Gate, Up, Down, GateBias, UpBias, DownBias);

    /// <summary>The down_proj input h <c>(N, I)</c>.</summary>
    public Tensor Hidden(Tensor x) =>
        nn.functional.silu(nn.functional.linear(x, Gate, GateBias)).mul(nn.functional.linear(x, Up, UpBias));

    public Tensor Forward(Tensor x) => nn.functional.linear(Hidden(x), Down, DownBias); // (N, H)

    public void Dispose()
    {
        foreach (var t in new[] { Gate, Up, Down, GateBias, UpBias, DownBias })
        {
            t?.Dispose();
        }
    }
}
