using LlamaMoe.Modeling.Llama;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>One calibration sequence during the layer-by-layer alignment pass: its residual stream, RoPE and causal mask.</summary>
internal sealed class SequenceState : IDisposable
{
    private SequenceState(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask)
    {
        Hidden = hidden;
        Cos = cos;
        Sin = sin;
        Mask = mask;
    }

    /// <summary>The residual stream <c>(1, T, H)</c> at the current layer.</summary>
    public Tensor Hidden { get; private set; }

    /// <summary>RoPE cosines <c>(1, T, hd)</c>.</summary>
    public Tensor Cos { get; }

    /// <summary>RoPE sines <c>(1, T, hd)</c>.</summary>
    public Tensor Sin { get; }

    /// <summary>The causal mask, or null when none is needed.</summary>
    public Tensor? Mask { get; }

    /// <summary>The embedded sequence at layer 0 of <paramref name="trunk"/> (as <see cref="LlamaModel.Forward"/> starts).</summary>
    public static SequenceState Start(LlamaModel trunk, int[] ids)
    {
        using var scope = NewDisposeScope();
        var device = trunk.EmbedTokens.weight!.device;
        var input = tensor(ids.Select(id => (long)id).ToArray(), device: device).unsqueeze(0); // (1, T)
        var hidden = trunk.EmbedTokens.forward(input);                                          // (1, T, H)
        var positions = arange(ids.Length, device: device).unsqueeze(0);                         // (1, T)
        var (cos, sin) = trunk.Rotary.Compute(positions, hidden.dtype);                         // (1, T, hd)
        var mask = AttentionMasks.Build(ids.Length, 0, null, hidden.dtype, device);             // (1, 1, T, T) or null
        return new SequenceState(hidden.DetachFromDisposeScope(), cos.DetachFromDisposeScope(), sin.DetachFromDisposeScope(), mask?.DetachFromDisposeScope());
    }

    /// <summary>Adds a module's output to the residual stream: <c>h ← h + module(h)</c>.</summary>
    public void Advance(Func<SequenceState, Tensor> module)
    {
        using var scope = NewDisposeScope();
        var next = Hidden.add(module(this)).DetachFromDisposeScope(); // (1, T, H)
        Hidden.Dispose();
        Hidden = next;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Hidden.Dispose();
        Cos.Dispose();
        Sin.Dispose();
        Mask?.Dispose();
    }
}
