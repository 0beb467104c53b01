using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Loads the calibration artifact a construction step needs.</summary>
internal static class CalibrationInput
{
    /// <summary>The single calibration input of the stage, loaded (LMOE2402 when absent).</summary>
    public static CalibrationArtifact Load(IStepContext context, string what)
    {
        var inputs = context.InputsOfKind(ArtifactKinds.Calibration);
        if (inputs.Count == 0)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.MissingInput, $"{context.StageId} needs a calibration stage for {what}", key: context.StageId,
                advice: "Add a 'calibrate' stage to needs.");
        }

        // The last calibration in needs wins (for example the importance pass after a hidden-state pass).
        return CalibrationArtifact.Load(inputs[^1].Directory);
    }

    /// <summary>The last calibration input of the stage, loaded, or null when none is in needs.</summary>
    public static CalibrationArtifact? LoadOptional(IStepContext context)
    {
        var inputs = context.InputsOfKind(ArtifactKinds.Calibration);
        return inputs.Count == 0 ? null : CalibrationArtifact.Load(inputs[^1].Directory);
    }

    /// <summary>A coded error for a layer whose calibration lacks <paramref name="what"/>.</summary>
    public static LlamaMoeException Lacks(int layer, string what, string advice) =>
        new(ConstructionPluginErrors.CalibrationContent, $"the calibration of layer {layer} has no {what}", key: "calibration", advice: advice);
}
