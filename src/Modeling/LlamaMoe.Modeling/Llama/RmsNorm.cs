using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>RMSNorm as in Hugging Face LLaMA: normalised in float32, cast back, then scaled by <c>weight</c>.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double eps;
    private Parameter scale;

    /// <summary>Creates the norm over the last dimension of width <paramref name="size"/>.</summary>
    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        scale = new Parameter(torch.ones(size));
        register_parameter("weight", scale);
    }

    /// <summary>
    /// The learned scale <c>(D)</c>. TorchSharp's <c>Module.to(dtype/device)</c> replaces a parameter exposed as a property
    /// through this setter, so the setter re-registers it: the registered parameter (state dict, optimizer, loaders) and the
    /// one <see cref="forward"/> uses must stay the same tensor.
    /// </summary>
    public Parameter weight
    {
        get => scale;
        private set
        {
            if (!ReferenceEquals(scale, value))
            {
                scale.Dispose();
            }

            scale = value;
            ConditionallyRegisterParameter("weight", value);
        }
    }

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
