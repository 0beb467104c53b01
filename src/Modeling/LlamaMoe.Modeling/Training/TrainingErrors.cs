namespace LlamaMoe.Modeling.Training;

/// <summary>The coded errors of training (LMOE31xx).</summary>
public static class TrainingErrors
{
    /// <summary>LMOE3101: an invalid trainer option.</summary>
    public static LlamaMoeException BadOption(string key, string detail) => new(
        "LMOE3101", detail, key: key, advice: "Fix the training options of the stage.");

    /// <summary>LMOE3102: the loss or the gradient norm became NaN or infinite.</summary>
    public static LlamaMoeException NonFinite(int step, string what, double value, string? lastCheckpoint) => new(
        "LMOE3102",
        $"the {what} is {value} at step {step}; training stopped",
        lastCheckpoint,
        what,
        lastCheckpoint is null
            ? "No checkpoint was written yet. Lower the learning rate, enable gradient clipping, or check the data for empty targets."
            : "The last good checkpoint is kept; resume from it with a lower learning rate or clipping.");

    /// <summary>LMOE3103: a resume checkpoint is missing, incomplete or unreadable.</summary>
    public static LlamaMoeException BadCheckpoint(string path, string detail, Exception? inner = null) => new(
        "LMOE3103", "cannot resume: " + detail, path, advice: "Delete the checkpoint folder to start over, or point the run at a complete checkpoint.", inner: inner);

    /// <summary>LMOE3104: the checkpoint does not match the model or the run (parameter names, shapes, dataset).</summary>
    public static LlamaMoeException Mismatch(string path, string key, string detail) => new(
        "LMOE3104", "the checkpoint does not match this run: " + detail, path, key, "Resume with the same model, data and options, or start a fresh run in another folder.");

    /// <summary>LMOE3105: no parameter is left to train.</summary>
    public static LlamaMoeException NothingToTrain(string detail) => new(
        "LMOE3105", "no trainable parameter: " + detail, key: "trainable", advice: "Enable at least one parameter group (router, experts, attention, embeddings, norms, other).");
}
