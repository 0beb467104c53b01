namespace LlamaMoe.Modeling.MoeModel;

/// <summary>Error codes of the model-level MoE construction (LMOE22xx): native config, loader, calibration, conversion.</summary>
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
    public const string CalibrationRequired = "LMOE2207";

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

    /// <summary>Distribution alignment cannot run (dense and MoE models disagree, or no tokens).</summary>
    public const string AlignmentFailed = "LMOE2213";
}
