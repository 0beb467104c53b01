namespace LlamaMoe;

/// <summary>
/// The error codes raised by the core types themselves, which both the model library and the plugin contracts use
/// (the other catalogues refer to these constants instead of spelling the codes again).
/// </summary>
public static class CoreErrorCodes
{
    /// <summary>LMOE2102: an expert partition breaks its invariants (see <see cref="Construction.ExpertPartition.Validate"/>).</summary>
    public const string PartitionInvariantBroken = "LMOE2102";

    /// <summary>LMOE2207: a split or router method needs calibration statistics the layer does not have.</summary>
    public const string CalibrationRequired = "LMOE2207";
}
