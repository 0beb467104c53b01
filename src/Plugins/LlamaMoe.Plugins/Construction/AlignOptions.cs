using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>align</c>.</summary>
public sealed class AlignOptions : StepOptions
{
    /// <summary>The calibration data file.</summary>
    [Option("Calibration data file the output statistics are taken over (v2: OpenHermes conversations).", Required = true, Path = OptionPathKind.Input)]
    public string Data { get; set; } = string.Empty;

    /// <summary>The data format.</summary>
    [Option("Data format: text, stories or chat.")]
    public CalibrationDataFormat Format { get; set; } = CalibrationDataFormat.Text;

    /// <summary>Chat template for chat data.</summary>
    [Option("Chat template for chat data: llama3, llama2 or plain.")]
    public string Template { get; set; } = "llama3";

    /// <summary>Token budget.</summary>
    [Option("Token budget: sequences are taken in file order until they hold this many tokens.", Minimum = 2)]
    public long Tokens { get; set; } = 65536;

    /// <summary>Longest sequence.</summary>
    [Option("Longest calibration sequence in tokens (longer ones are cut).", Minimum = 2, Maximum = 131072)]
    public int MaxLength { get; set; } = 512;

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
