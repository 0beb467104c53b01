namespace LlamaMoe.Cli;

/// <summary>
/// Every option name, across all commands, that is a flag (takes no value). Kept in one place so the parser
/// knows before dispatch; add a flag here when a command introduces one.
/// </summary>
public static class CliFlags
{
    /// <summary>The flag names.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "json",
        "force-all",
        "force",
        "quiet",
        "plain",
        "all",
        "dry-run",
        "no-build",
    };
}
