namespace LlamaMoe.Plugins.Common;

/// <summary>The error codes raised by the built-in steps (LMOE33xx; documented in docs/error-codes.md).</summary>
public static class PluginErrorCodes
{
    /// <summary>A step needs exactly one model stage (dense-model or moe-model) and has none or several.</summary>
    public const string ModelInput = "LMOE3301";

    /// <summary>An import source is neither a llama2.c .bin, a .gguf nor a Hugging Face model folder.</summary>
    public const string ImportSource = "LMOE3302";

    /// <summary>A data source's first/count selection lies outside the examples it holds.</summary>
    public const string DataSelection = "LMOE3303";

    /// <summary>After encoding and packing, the training data holds no row with a target token.</summary>
    public const string NoTrainingRows = "LMOE3304";

    /// <summary>An evaluation task lacks the data it needs, or its data selection is empty.</summary>
    public const string EvaluationData = "LMOE3305";

    /// <summary>The evaluate step's baseline is not one of the stage's model inputs.</summary>
    public const string Baseline = "LMOE3306";

    /// <summary>A tokenizer for a new model could not be trained (too little text) or does not fit the model options.</summary>
    public const string Tokenizer = "LMOE3307";

    /// <summary>A train stage's distillation teacher is a stage id that is not in its <c>needs</c>, or names no model.</summary>
    public const string DistillTeacher = "LMOE3310";
}
