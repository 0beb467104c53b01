using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Export;

/// <summary>Options of the <c>export</c> step.</summary>
public sealed class ExportOptions : StepOptions
{
    /// <summary>The formats to write, in order.</summary>
    [Option("Formats to write, each into its own entry of the output: native/, mixtral/, llama-moe-v2/, qwen2-moe/ (folders) and model.gguf. A dense model fits gguf only.")]
    public List<ExportFormat> Formats { get; set; } = [ExportFormat.Native, ExportFormat.Mixtral, ExportFormat.Gguf];

    /// <summary>Skip, with a warning, a format the model does not fit instead of failing.</summary>
    [Option("Skip a format the model does not fit (residual expert or dense layers for mixtral/gguf, a dense model for the MoE formats) with a warning, instead of failing with the exporter's error.")]
    public bool SkipUnsupported { get; set; }

    /// <summary>The GGUF tensor type of the matrices.</summary>
    [Option("GGUF tensor type of the weight matrices: f32, f16 or bf16 (norms and routers stay f32).")]
    public GgufTensorType GgufType { get; set; } = GgufTensorType.F32;

    /// <summary>A model folder when no model stage is needed.</summary>
    [Option("Model folder (dense or any MoE format) to export when no dense-model or moe-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Formats.Count == 0)
        {
            yield return new OptionProblem("formats", "give at least one format", "List some of native, mixtral, llama-moe-v2, qwen2-moe, gguf.");
        }

        for (var i = 0; i < Formats.Count; i++)
        {
            if (Formats.IndexOf(Formats[i]) < i)
            {
                yield return new OptionProblem($"formats[{i}]", $"format '{ExportStep.FormatName(Formats[i])}' is listed twice", "List each format once.");
            }
        }
    }
}
