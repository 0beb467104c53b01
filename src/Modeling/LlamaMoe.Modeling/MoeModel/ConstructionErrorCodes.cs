namespace LlamaMoe.Modeling.MoeModel;

/// <summary>Error codes of the model-level MoE construction (LMOE210x, LMOE22xx): native config, loader, calibration, conversion.</summary>
public static class ConstructionErrorCodes
{
    /// <summary>An MoE key of config.json is missing or has the wrong type.</summary>
    public const string InvalidMoeKey = "LMOE2201";

    /// <summary>MoE keys contradict each other or the dense keys (layer indices, expert sizes, top-k, scale list length).</summary>
    public const string MoeContradiction = "LMOE2202";

    /// <summary>Unknown router network or routing-weights name.</summary>
    public const string UnknownRouter = "LMOE2203";

    /// <summary>Unsupported llamamoe_format_version.</summary>
    public const string UnsupportedFormatVersion = "LMOE2204";

    /// <summary>The directory holds no model this loader understands (model_type not llama/llamamoe, no reader registered).</summary>
    public const string UnknownModelFormat = "LMOE2205";

    /// <summary>The conversion plan does not fit the dense checkpoint (partition size, router shape, missing layer plan).</summary>
    public const string PlanMismatch = "LMOE2206";

    /// <summary>The split method or router initialisation needs calibration statistics that were not given.</summary>
    public const string CalibrationRequired = CoreErrorCodes.CalibrationRequired;

    /// <summary>Unknown split method or router initialisation name.</summary>
    public const string UnknownMethod = "LMOE2208";

    /// <summary>A calibration artifact is malformed or does not match the model.</summary>
    public const string CalibrationArtifactInvalid = "LMOE2209";

    /// <summary>The calibration data yields no usable tokens.</summary>
    public const string CalibrationDataEmpty = "LMOE2210";

    /// <summary>The conversion output directory already exists and is not empty.</summary>
    public const string OutputExists = "LMOE2211";

    /// <summary>Conversion options out of range (experts, top-k, contract layers, residual, scale).</summary>
    public const string InvalidConversionOptions = "LMOE2212";

    /// <summary>LMOE2101: MoE block options out of range (hidden size, expert sizes, top-k, residual size, scale factor).</summary>
    public const string MoeBlockOptionsOutOfRange = "LMOE2101";

    /// <summary>LMOE2102: An expert partition breaks its invariants.</summary>
    public const string PartitionInvariantBroken = CoreErrorCodes.PartitionInvariantBroken;

    /// <summary>LMOE2103: Expert sizes do not fit the neuron count.</summary>
    public const string ExpertSizesMismatch = "LMOE2103";

    /// <summary>LMOE2104: Importance scores malformed, or a bad residual/shared-expert size.</summary>
    public const string ImportanceMalformed = "LMOE2104";

    /// <summary>LMOE2105: Balanced k-means cannot meet its size bounds, or its data is malformed or non-finite.</summary>
    public const string BalancedKMeansFailed = "LMOE2105";

    /// <summary>LMOE2106: Co-activation matrix of the wrong size for the graph partition.</summary>
    public const string CoactivationSizeMismatch = "LMOE2106";

    /// <summary>LMOE2107: Too few calibration tokens (or the wrong shape) for router initialisation.</summary>
    public const string TooFewCalibrationTokens = "LMOE2107";

    /// <summary>LMOE2108: Importance inputs (activations, gradients, cluster ids) disagree in token count.</summary>
    public const string ImportanceInputsDisagree = "LMOE2108";

    /// <summary>LMOE2109: Dense MLP weights or partition do not match the MoE block being filled, or biases are missing.</summary>
    public const string DenseWeightsMismatch = "LMOE2109";
}
