using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>align</c>.</summary>
public sealed class AlignOptions : CalibrationDataOptions
{
    /// <summary>Fold the mean shift as a bias.</summary>
    [Option("Fold the mean shift b as an expert output bias (v2 add_rescale_bias; the model gets mlp_bias/attention_bias with zero biases elsewhere). False aligns only the per-dimension scale and keeps the model bias-free.")]
    public bool Bias { get; set; } = true;

    /// <summary>Align attention-MoE layers.</summary>
    [Option("Align the attention-MoE layers' output (when the model has attention-MoE).")]
    public bool Attention { get; set; } = true;

    /// <summary>Align MLP-MoE layers.</summary>
    [Option("Align the MLP-MoE layers' output (routed plus residual experts).")]
    public bool Mlp { get; set; } = true;

    /// <summary>A dense model folder when no dense-model stage is needed.</summary>
    [Option("Dense reference model folder when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

    /// <summary>Largest output shard in MiB.</summary>
    [Option("Largest safetensors shard in MiB.", Minimum = 1)]
    public int MaxShardMb { get; set; } = 5120;

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (!Attention && !Mlp)
        {
            yield return new OptionProblem("mlp", "attention and mlp are both false: nothing to align", "Set mlp: true or attention: true.");
        }

        if (Template is not ("llama3" or "llama2" or "plain"))
        {
            yield return new OptionProblem("template", $"unknown chat template '{Template}'", "Use llama3, llama2 or plain.");
        }
    }
}
