namespace LlamaMoe;

/// <summary>Error codes of generation and evaluation inputs (LMOE380x).</summary>
public static class GenerationErrorCodes
{
    /// <summary>LMOE3801: generation options out of range.</summary>
    public const string OptionsOutOfRange = "LMOE3801";

    /// <summary>LMOE3802: generation was given no prompt token.</summary>
    public const string EmptyPrompt = "LMOE3802";

    /// <summary>LMOE3803: the evaluation data file does not exist.</summary>
    public const string DataFileMissing = "LMOE3803";
}
