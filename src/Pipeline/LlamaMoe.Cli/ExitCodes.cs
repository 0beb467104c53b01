namespace LlamaMoe.Cli;

/// <summary>The documented process exit codes of <c>llama-moe</c>.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>The work failed with one or more coded diagnostics (bad pipeline, bad checkpoint, failed stage).</summary>
    public const int Failure = 1;

    /// <summary>The command line itself was wrong (unknown command or option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>The native TorchSharp runtime could not be loaded on this machine.</summary>
    public const int RuntimeUnavailable = 3;

    /// <summary>Another run holds the artifact store lock.</summary>
    public const int StoreLocked = 4;

    /// <summary>Cancelled by Ctrl-C or SIGTERM (128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
