namespace LlamaMoe.Build.Tasks;

/// <summary>
/// The LMOE4xxx codes the MSBuild integration reports itself (the CLI reports all other codes). Each one is listed in
/// <c>docs/error-codes.md</c>.
/// </summary>
public static class BuildErrorCodes
{
    /// <summary>The llama-moe CLI assembly was not found at <c>LlamaMoeCliPath</c>.</summary>
    public const string CliNotFound = "LMOE4001";

    /// <summary>The CLI exited with a failure code without printing any diagnostic.</summary>
    public const string CliFailedSilently = "LMOE4002";

    /// <summary>The CLI could not load the TorchSharp native runtime (its exit code 3).</summary>
    public const string RuntimeUnavailable = "LMOE4003";

    /// <summary>Another run holds the artifact store lock (CLI exit code 4).</summary>
    public const string StoreLocked = "LMOE4004";

    /// <summary>The CLI rejected the command line the targets built (exit code 2): the targets and CLI versions differ.</summary>
    public const string CliUsage = "LMOE4005";

    /// <summary>A <c>LlamaMoePipeline</c> item names a file that does not exist.</summary>
    public const string PipelineNotFound = "LMOE4006";

    /// <summary><c>LlamaMoeDevice</c> is not one of auto, cpu, cuda.</summary>
    public const string InvalidDevice = "LMOE4007";

    /// <summary><c>LlamaMoePipelines</c> names a pipeline the project does not have (raised by the targets).</summary>
    public const string UnknownPipelineName = "LMOE4009";

    /// <summary>A <c>LlamaMoeVars</c> entry is not <c>NAME=VALUE</c>.</summary>
    public const string InvalidVariable = "LMOE4010";

    /// <summary>The LlamaMoe.Cli tool of <c>LlamaMoeCliVersion</c> could not be restored (raised by the targets).</summary>
    public const string CliToolRestoreFailed = "LMOE4011";

    /// <summary>The run was cancelled (CLI exit code 130), for example by Ctrl-C.</summary>
    public const string Cancelled = "LMOE4008";

    /// <summary>A path parameter of the task (CLI, pipeline, store, dotnet host) is not a valid path (a NUL character, for example).</summary>
    public const string InvalidPathParameter = "LMOE0909";

    /// <summary>The task itself failed unexpectedly; it reports the exception in one line instead of MSBuild's stack trace.</summary>
    public const string TaskInternalError = "LMOE0910";
}
