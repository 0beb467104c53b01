namespace LlamaMoe.Modeling.Generation;

/// <summary>Decoding settings.</summary>
/// <param name="MaxNewTokens">Tokens to generate at most.</param>
/// <param name="Temperature">0 (or less) for greedy decoding; otherwise the softmax temperature.</param>
/// <param name="TopP">Nucleus sampling mass (1 = off).</param>
/// <param name="TopK">Keep only the K most likely tokens (0 = off).</param>
/// <param name="Seed">Seed of the sampling generator.</param>
/// <param name="StopTokenIds">Generation stops after producing one of these (typically EOS).</param>
public sealed record GenerationOptions(
    int MaxNewTokens = 64,
    double Temperature = 0.0,
    double TopP = 1.0,
    int TopK = 0,
    int Seed = 0,
    IReadOnlyList<int>? StopTokenIds = null)
{
    /// <summary>Checks the ranges; throws LMOE3801 when a value is out of range.</summary>
    public GenerationOptions Validate()
    {
        if (MaxNewTokens < 0 || Temperature < 0 || double.IsNaN(Temperature) || !(TopP > 0 && TopP <= 1) || TopK < 0)
        {
            throw new LlamaMoeException(GenerationErrorCodes.OptionsOutOfRange, "generation options out of range: need max_new_tokens >= 0, temperature >= 0, 0 < top_p <= 1, top_k >= 0",
                advice: "Fix the generation options.");
        }

        return this;
    }
}
