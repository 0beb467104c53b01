namespace LlamaMoe.Pipeline;

/// <summary>Error codes raised by the plugin contracts themselves (artifacts, partitions, the splitter base, MLP weights folders, calibration statistics).</summary>
public static class ContractErrorCodes
{
    /// <summary>LMOE0057: a stage has no model to work on (no <c>model</c> option and no model artifact among its inputs).</summary>
    public const string NoModel = "LMOE0057";

    /// <summary>LMOE0080: an artifact manifest cannot be read.</summary>
    public const string ArtifactManifestUnreadable = "LMOE0080";

    /// <summary>LMOE0081: an expert partition cannot be read.</summary>
    public const string PartitionUnreadable = "LMOE0081";

    /// <summary>LMOE1050: an MLP weights header cannot be read or has an impossible shape.</summary>
    public const string MlpWeightsHeaderInvalid = "LMOE1050";

    /// <summary>LMOE1051: an MLP weights file is missing or has the wrong size.</summary>
    public const string MlpWeightsFileInvalid = "LMOE1051";

    /// <summary>LMOE1052: no registered weight source can read a model folder.</summary>
    public const string NoWeightSource = "LMOE1052";

    /// <summary>LMOE1053: no registered statistics source can read a calibration folder.</summary>
    public const string NoStatisticsSource = "LMOE1053";

    /// <summary>LMOE2402: a step needs an input artifact (such as a calibration) that is not in <c>needs</c>.</summary>
    public const string MissingInput = "LMOE2402";

    /// <summary>LMOE2050: a splitter returned an invalid partition for a layer.</summary>
    public const string InvalidPartition = "LMOE2050";
}
