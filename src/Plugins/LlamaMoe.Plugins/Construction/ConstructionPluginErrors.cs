namespace LlamaMoe.Plugins.Construction;

/// <summary>Error codes of the construction plugins (LMOE2401–LMOE2449); documented in docs/error-codes.md.</summary>
public static class ConstructionPluginErrors
{
    /// <summary>A dense checkpoint's MLP tensor shape disagrees with config.json.</summary>
    public const string WeightShape = "LMOE2401";

    /// <summary>A step needs an input artifact (calibration, partition, router weights) that is not in <c>needs</c>.</summary>
    public const string MissingInput = LlamaMoe.Pipeline.ContractErrorCodes.MissingInput;

    /// <summary>A calibration artifact is unreadable, or lacks what the step needs (hidden states, co-activation, importance) for a layer.</summary>
    public const string CalibrationContent = "LMOE2403";

    /// <summary>A router-weights artifact is unreadable or disagrees with the model (layers, hidden size, experts).</summary>
    public const string RouterContent = "LMOE2404";

    /// <summary>Artifacts disagree with each other or with the dense model (layer count, intermediate size, experts).</summary>
    public const string ArtifactMismatch = "LMOE2405";

    /// <summary>The dense model directory is not a dense Hugging Face LLaMA directory.</summary>
    public const string NotDenseModel = "LMOE2406";

    /// <summary>An attention-experts artifact is unreadable or was made for another model (width, layers, heads, split), or lacks a layer's router.</summary>
    public const string AttentionExpertsContent = "LMOE2407";
}
