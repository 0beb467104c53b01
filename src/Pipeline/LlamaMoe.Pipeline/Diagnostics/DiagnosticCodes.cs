namespace LlamaMoe.Pipeline.Diagnostics;

/// <summary>The stable pipeline diagnostic codes (documented in docs/error-codes.md).</summary>
public static class DiagnosticCodes
{
    /// <summary>YAML syntax error.</summary>
    public const string YamlSyntax = "LMOE0001";

    /// <summary>Nesting deeper than the limit.</summary>
    public const string YamlTooDeep = "LMOE0002";

    /// <summary>Anchor or alias.</summary>
    public const string YamlAlias = "LMOE0003";

    /// <summary>Duplicate mapping key.</summary>
    public const string YamlDuplicateKey = "LMOE0004";

    /// <summary>File too large or more than one document.</summary>
    public const string YamlLimits = "LMOE0005";

    /// <summary>A mapping key that is not a scalar.</summary>
    public const string YamlComplexKey = "LMOE0006";

    /// <summary>Empty pipeline file.</summary>
    public const string EmptyPipeline = "LMOE0007";

    /// <summary>Pipeline file not found or unreadable.</summary>
    public const string PipelineFileMissing = "LMOE0008";

    /// <summary>Unknown top-level key.</summary>
    public const string UnknownTopLevelKey = "LMOE0010";

    /// <summary>A required key is missing.</summary>
    public const string MissingKey = "LMOE0011";

    /// <summary>A value has the wrong YAML shape (mapping, list or scalar).</summary>
    public const string WrongShape = "LMOE0012";

    /// <summary>Invalid pipeline name or stage id.</summary>
    public const string InvalidName = "LMOE0013";

    /// <summary>Invalid device or seed.</summary>
    public const string InvalidSetting = "LMOE0014";

    /// <summary>Unknown key in a stage.</summary>
    public const string UnknownStageKey = "LMOE0015";

    /// <summary>Unknown plugin name in <c>uses:</c>.</summary>
    public const string UnknownPlugin = "LMOE0020";

    /// <summary>Two plugins export one name.</summary>
    public const string DuplicatePlugin = "LMOE0021";

    /// <summary>A <c>plugins:</c> path does not exist.</summary>
    public const string PluginPathMissing = "LMOE0022";

    /// <summary>A plugin assembly could not be loaded or composed.</summary>
    public const string PluginLoadFailed = "LMOE0023";

    /// <summary>A plugin's options type is not a <see cref="StepOptions"/> class with a parameterless constructor.</summary>
    public const string PluginBadOptionsType = "LMOE0024";

    /// <summary>Unknown stage in <c>needs</c>.</summary>
    public const string UnknownNeed = "LMOE0030";

    /// <summary>Dependency cycle.</summary>
    public const string Cycle = "LMOE0031";

    /// <summary>A stage needs itself or lists a need twice.</summary>
    public const string BadNeed = "LMOE0032";

    /// <summary>A needed stage produces an artifact kind the step does not consume.</summary>
    public const string ArtifactKindMismatch = "LMOE0033";

    /// <summary>Unknown variable.</summary>
    public const string UnknownVariable = "LMOE0040";

    /// <summary>Environment variable not set.</summary>
    public const string MissingEnvironmentVariable = "LMOE0041";

    /// <summary>Malformed <c>${...}</c>.</summary>
    public const string BadInterpolation = "LMOE0042";

    /// <summary><c>${stages.ID.outputs.NAME}</c> names a stage that is unknown or not in <c>needs</c>.</summary>
    public const string BadStageReference = "LMOE0043";

    /// <summary>A variable refers to itself.</summary>
    public const string RecursiveVariable = "LMOE0044";

    /// <summary>Unknown option.</summary>
    public const string UnknownOption = "LMOE0050";

    /// <summary>A required option is missing.</summary>
    public const string MissingOption = "LMOE0051";

    /// <summary>An option has the wrong type.</summary>
    public const string OptionType = "LMOE0052";

    /// <summary>An option is out of range.</summary>
    public const string OptionRange = "LMOE0053";

    /// <summary>An option is not one of its allowed values.</summary>
    public const string OptionEnum = "LMOE0054";

    /// <summary>A step's own validation failed.</summary>
    public const string OptionInvalid = "LMOE0055";

    /// <summary>An input path option names nothing.</summary>
    public const string InputPathMissing = "LMOE0056";

    /// <summary>Another run holds the store lock.</summary>
    public const string StoreLocked = "LMOE0070";

    /// <summary>A stage's step failed.</summary>
    public const string StageFailed = "LMOE0071";

    /// <summary><c>--force</c> or <c>--until</c> names an unknown stage.</summary>
    public const string UnknownStageArgument = "LMOE0072";

    /// <summary>The lock file cannot be read.</summary>
    public const string LockFileCorrupt = "LMOE0073";

    /// <summary>A store object does not match its digest (warning; it is removed and rebuilt).</summary>
    public const string StoreObjectCorrupt = "LMOE0075";

    /// <summary>A step asked for the artifact of a stage it does not need.</summary>
    public const string UndeclaredInput = "LMOE0074";

    /// <summary>A key file or object folder of the store is a link or names something outside the store (warning; refused, the stage reruns).</summary>
    public const string StoreEscape = "LMOE0076";
}
