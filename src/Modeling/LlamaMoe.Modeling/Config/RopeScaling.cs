namespace LlamaMoe.Modeling.Config;

/// <summary>
/// The <c>rope_scaling</c> block of a Hugging Face LLaMA config: <c>linear</c>, <c>dynamic</c> (NTK) or <c>llama3</c>
/// (Llama 3.1/3.2 frequency-band scaling).
/// </summary>
/// <param name="Type">The scaling type (<c>rope_type</c>, or the older <c>type</c>): linear, dynamic or llama3.</param>
/// <param name="Factor">The scaling factor (&gt; 0).</param>
/// <param name="LowFreqFactor">llama3 only: the low-frequency factor.</param>
/// <param name="HighFreqFactor">llama3 only: the high-frequency factor.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3 (and optionally dynamic): the pre-training context length.</param>
public sealed record RopeScaling(
    string Type,
    double Factor,
    double? LowFreqFactor = null,
    double? HighFreqFactor = null,
    int? OriginalMaxPositionEmbeddings = null)
{
    /// <summary>Linear position interpolation.</summary>
    public const string Linear = "linear";

    /// <summary>Dynamic NTK scaling.</summary>
    public const string Dynamic = "dynamic";

    /// <summary>Llama 3.1 frequency-band scaling.</summary>
    public const string Llama3 = "llama3";
}
