using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LlamaMoe.Build.Tasks;

/// <summary>
/// Runs one YAML pipeline with the <c>llama-moe</c> CLI out of process (<c>dotnet exec llama-moe.dll run ...</c>).
/// The CLI decides from its content keys which stages are stale, so the task launches it on every build; a run with
/// nothing to do is cheap and reports the pipeline up to date. Output streams into the build log line by line at
/// high importance, and canonical <c>file(line,col): error CODE: message</c> lines become MSBuild errors and warnings
/// with their file, position and code. The task does nothing in design-time builds.
/// </summary>
public sealed class RunLlamaMoePipeline : ToolTask
{
    // LlamaMoe.Pipeline.DeviceNames.All, spelled again: the task assembly references nothing of LlamaMoe (it loads into MSBuild).
    private static readonly string[] KnownDevices = ["auto", "cpu", "cuda"];
    private static readonly char[] ListSeparators = [';', ','];

    private int diagnosticsReported;
    private RunSummary? summary;

    /// <summary>The pipeline YAML file to run.</summary>
    [Required]
    public string PipelineFile { get; set; } = string.Empty;

    /// <summary>The path of <c>llama-moe.dll</c>.</summary>
    [Required]
    public string CliPath { get; set; } = string.Empty;

    /// <summary>The content store folder (<c>--store</c>); the CLI's default when empty.</summary>
    public string? StoreDir { get; set; }

    /// <summary>auto, cpu or cuda (<c>--device</c>); the pipeline's own choice when empty.</summary>
    public string? Device { get; set; }

    /// <summary>Stages to run again even when their keys are unchanged, separated by ; or , (one <c>--force</c> each).</summary>
    public string? ForceStage { get; set; }

    /// <summary>Pipeline variable overrides <c>NAME=VALUE</c>, separated by ; (one <c>--var</c> each).</summary>
    public string? Variables { get; set; }

    /// <summary>Further arguments appended verbatim to the <c>run</c> command line.</summary>
    public string? AdditionalArguments { get; set; }

    /// <summary>True in an IDE's design-time build: the task then returns at once without running anything.</summary>
    public bool DesignTimeBuild { get; set; }

    /// <summary>The <c>dotnet</c> host to launch; defaults to <c>DOTNET_HOST_PATH</c> (set by the SDK), then PATH.</summary>
    public string? DotnetHostPath { get; set; }

    /// <summary>The number of error and warning diagnostics the CLI printed during the last run.</summary>
    [Output]
    public int DiagnosticCount => diagnosticsReported;

    /// <summary>The pipeline's name, from the CLI's summary line; empty when the run did not finish.</summary>
    [Output]
    public string PipelineName => summary?.PipelineName ?? string.Empty;

    /// <summary>The number of stages that executed; -1 when the run did not finish.</summary>
    [Output]
    public int StagesRun => summary?.StagesRun ?? -1;

    /// <summary>True when the run finished and executed no stage.</summary>
    [Output]
    public bool UpToDate => summary?.UpToDate ?? false;

    /// <summary>The folder the CLI published the readable outputs to; empty when the run did not finish.</summary>
    [Output]
    public string PublishedDirectory => summary?.ArtifactsDirectory ?? string.Empty;

    /// <inheritdoc />
    protected override string ToolName => OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";

    /// <inheritdoc />
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

    /// <inheritdoc />
    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.High;

    /// <inheritdoc />
    public override bool Execute()
    {
        if (DesignTimeBuild)
        {
            Log.LogMessage(MessageImportance.Low, $"llama-moe: design-time build, not running {PipelineFile}.");
            return true;
        }

        try
        {
            return base.Execute() && !Log.HasLoggedErrors;
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or StackOverflowException))
        {
            // Never MSB4018 with a stack trace: one coded line naming the exception.
            LogCodedError(BuildErrorCodes.TaskInternalError, PipelineFile,
                $"The LlamaMoe.Build task failed unexpectedly ({ex.GetType().FullName}: {ex.Message.Split('\n')[0].TrimEnd('\r')}). Report it with the build log (-v:d).");
            return false;
        }
    }

    /// <summary>The arguments after the host name, exactly as the process receives them (quoted where needed).</summary>
    internal string BuildCommandLine()
    {
        var builder = new CommandLineBuilder(quoteHyphensOnCommandLine: false, useNewLineSeparator: false);
        builder.AppendSwitch("exec");
        builder.AppendFileNameIfNotNull(Path.GetFullPath(CliPath));
        builder.AppendSwitch("run");
        builder.AppendFileNameIfNotNull(Path.GetFullPath(PipelineFile));
        AppendOption(builder, "--store", StoreDir, isPath: true);
        AppendOption(builder, "--device", Device, isPath: false);
        foreach (var stage in SplitList(ForceStage, ListSeparators))
        {
            AppendOption(builder, "--force", stage, isPath: false);
        }

        foreach (var assignment in SplitList(Variables, [';']))
        {
            AppendOption(builder, "--var", assignment, isPath: false);
        }
        if (!string.IsNullOrWhiteSpace(AdditionalArguments))
        {
            builder.AppendTextUnquoted(" " + AdditionalArguments.Trim());
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    protected override string GenerateCommandLineCommands() => BuildCommandLine();

    /// <inheritdoc />
    protected override string GenerateFullPathToTool() => DotnetHostLocator.Resolve(DotnetHostPath, ToolName);

    /// <inheritdoc />
    protected override bool ValidateParameters()
    {
        foreach (var (name, value) in new[] { ("LlamaMoeCliPath", CliPath), ("the LlamaMoePipeline item", PipelineFile), ("LlamaMoeStoreDir", StoreDir), ("the dotnet host path", DotnetHostPath) })
        {
            if (!IsUsablePath(value))
            {
                LogCodedError(BuildErrorCodes.InvalidPathParameter, null,
                    $"{name} is not a valid path ('{value?.Replace("\0", "\\0", StringComparison.Ordinal)}'). Fix the property; a path cannot hold a NUL character.");
            }
        }

        if (Log.HasLoggedErrors)
        {
            return false;
        }

        if (!File.Exists(CliPath))
        {
            LogCodedError(BuildErrorCodes.CliNotFound, null,
                $"The llama-moe CLI was not found at '{CliPath}'. Build src/Pipeline/LlamaMoe.Cli first, or set LlamaMoeCliPath to the path of llama-moe.dll.");
        }

        if (!File.Exists(PipelineFile))
        {
            LogCodedError(BuildErrorCodes.PipelineNotFound, null,
                $"The pipeline file '{PipelineFile}' does not exist. Fix the LlamaMoePipeline item's Include.");
        }

        if (!string.IsNullOrWhiteSpace(Device) && !KnownDevices.Contains(Device.Trim(), StringComparer.Ordinal))
        {
            LogCodedError(BuildErrorCodes.InvalidDevice, PipelineFile,
                $"LlamaMoeDevice is '{Device}', but it must be auto, cpu or cuda (or empty for the pipeline's own device).");
        }

        foreach (var assignment in SplitList(Variables, [';']).Where(a => a.IndexOf('=', StringComparison.Ordinal) <= 0))
        {
            LogCodedError(BuildErrorCodes.InvalidVariable, PipelineFile,
                $"LlamaMoeVars entry '{assignment}' is not NAME=VALUE.");
        }

        return !Log.HasLoggedErrors;
    }

    /// <inheritdoc />
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        var diagnostic = CanonicalDiagnostic.TryParse(singleLine);
        if (diagnostic is null)
        {
            Log.LogMessage(messageImportance, singleLine);
            var parsed = RunSummary.TryParse(singleLine);
            if (parsed is not null)
            {
                summary = parsed;
                if (parsed.UpToDate)
                {
                    Log.LogMessage(MessageImportance.High, $"llama-moe: pipeline {parsed.PipelineName} is up to date; no stage ran.");
                }
            }

            return;
        }

        diagnosticsReported++;
        var file = diagnostic.HasFile ? diagnostic.Origin : PipelineFile;
        if (diagnostic.Severity == DiagnosticSeverity.Error)
        {
            Log.LogError(null, diagnostic.Code, null, file, diagnostic.Line, diagnostic.Column, 0, 0, diagnostic.Message);
        }
        else
        {
            Log.LogWarning(null, diagnostic.Code, null, file, diagnostic.Line, diagnostic.Column, 0, 0, diagnostic.Message);
        }
    }

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors()
    {
        if (Log.HasLoggedErrors)
        {
            return false;
        }

        var (code, message) = ExitCode switch
        {
            2 => (BuildErrorCodes.CliUsage,
                "llama-moe rejected the command line (exit code 2); the LlamaMoe.Build targets and the CLI come from different versions. Use the same version of both."),
            3 => (BuildErrorCodes.RuntimeUnavailable,
                "llama-moe could not load the TorchSharp native runtime (exit code 3); see the message above for the missing library."),
            4 => (BuildErrorCodes.StoreLocked,
                "Another llama-moe run holds the artifact store lock (exit code 4). Wait for it to finish, or build with a different LlamaMoeStoreDir."),
            130 => (BuildErrorCodes.Cancelled,
                "The pipeline run was cancelled (exit code 130); finished stages are kept and the next build resumes from them."),
            _ => (BuildErrorCodes.CliFailedSilently,
                string.Create(CultureInfo.InvariantCulture, $"llama-moe exited with code {ExitCode} without reporting a diagnostic; see the output above.")),
        };
        LogCodedError(code, PipelineFile, message);
        return false;
    }

    private static bool IsUsablePath(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            _ = Path.GetFullPath(value);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
        {
            return false;
        }
    }

    private static IEnumerable<string> SplitList(string? list, char[] separators) =>
        (list ?? string.Empty).Split(separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void AppendOption(CommandLineBuilder builder, string name, string? value, bool isPath)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            builder.AppendSwitchIfNotNull(name + " ", isPath ? Path.GetFullPath(value) : value.Trim());
        }
    }

    private void LogCodedError(string code, string? file, string message) =>
        Log.LogError(null, code, null, file, 0, 0, 0, 0, message);
}
