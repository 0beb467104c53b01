using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>The calibration data options shared by the steps that run the dense model over calibration text (<c>calibrate</c>, <c>align</c>).</summary>
public abstract class CalibrationDataOptions : StepOptions
{
    /// <summary>The calibration data file.</summary>
    [Option("Calibration data file (v2: OpenHermes conversations).", Required = true, Path = OptionPathKind.Input)]
    public string Data { get; set; } = string.Empty;

    /// <summary>The data format.</summary>
    [Option("Data format: text, stories or chat.")]
    public CalibrationDataFormat Format { get; set; } = CalibrationDataFormat.Text;

    /// <summary>Chat template for chat data.</summary>
    [Option("Chat template for chat data: llama3, llama2 or plain.")]
    public string Template { get; set; } = "llama3";

    /// <summary>Token budget: sequences are taken in order until this many tokens.</summary>
    [Option("Token budget: sequences are taken in file order until they hold this many tokens.", Minimum = 2)]
    public long Tokens { get; set; } = 65536;

    /// <summary>Longest sequence.</summary>
    [Option("Longest calibration sequence in tokens (longer ones are cut).", Minimum = 2, Maximum = 131072)]
    public int MaxLength { get; set; } = 512;
}
