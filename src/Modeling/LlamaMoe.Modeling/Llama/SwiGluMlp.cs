using LlamaMoe.Modeling.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>The dense LLaMA MLP: <c>down_proj(silu(gate_proj(x)) * up_proj(x))</c>.</summary>
public sealed class SwiGluMlp : FeedForwardBlock
{
    private readonly Linear gateProj;
    private readonly Linear upProj;
    private readonly Linear downProj;

    /// <summary>Creates the MLP with width <paramref name="hiddenSize"/> and hidden width <paramref name="intermediateSize"/>.</summary>
    public SwiGluMlp(long hiddenSize, long intermediateSize, bool bias) : base(nameof(SwiGluMlp))
    {
        gateProj = nn.Linear(hiddenSize, intermediateSize, hasBias: bias);
        upProj = nn.Linear(hiddenSize, intermediateSize, hasBias: bias);
        downProj = nn.Linear(intermediateSize, hiddenSize, hasBias: bias);
        register_module("gate_proj", gateProj);
        register_module("up_proj", upProj);
        register_module("down_proj", downProj);
    }

    /// <summary>Creates the MLP from a config.</summary>
    public SwiGluMlp(LlamaConfig config) : this(config.HiddenSize, config.IntermediateSize, config.MlpBias)
    {
    }

    /// <summary>gate_proj <c>(F, D)</c>.</summary>
    public Linear GateProj => gateProj;

    /// <summary>up_proj <c>(F, D)</c>.</summary>
    public Linear UpProj => upProj;

    /// <summary>down_proj <c>(D, F)</c>.</summary>
    public Linear DownProj => downProj;

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc />
    public override string StateDictName => "mlp";

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = nn.functional.silu(gateProj.forward(input)) * upProj.forward(input); // (..., F)
        return downProj.forward(hidden).MoveToOuterDisposeScope();                       // (..., D)
    }
}
