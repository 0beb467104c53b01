using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>RMSNorm as in Hugging Face LLaMA: normalised in float32, cast back, then scaled by <c>weight</c>.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double eps;

    // A field named as the registered parameter: Module.to(dtype/device) replaces the parameter through this field's name,
    // so forward and the state dict keep seeing one tensor (an auto-property's backing field kept the pre-conversion copy).
    private readonly Parameter weight;

    /// <summary>Creates the norm over the last dimension of width <paramref name="size"/>.</summary>
    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        weight = new Parameter(torch.ones(size));
        register_parameter("weight", weight);
    }

    /// <summary>The learned scale <c>(D)</c>.</summary>
    public Parameter Weight => weight;

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.to_type(ScalarType.Float32);                          // (..., D)
        var variance = x.pow(2).mean([-1], keepdim: true);                  // (..., 1)
        var normed = (x * torch.rsqrt(variance + eps)).to_type(input.dtype); // (..., D)
        return (weight * normed).MoveToOuterDisposeScope();
    }
}
