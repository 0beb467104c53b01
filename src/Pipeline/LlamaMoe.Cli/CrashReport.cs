using System.Globalization;

namespace LlamaMoe.Cli;

/// <summary>
/// The last-resort handler for an exception that is neither a coded <see cref="LlamaMoeException"/> nor a usage error:
/// the full trace goes to a file and the terminal gets one line with code <c>LMOE0999</c> and that file's path.
/// </summary>
public static class CrashReport
{
    /// <summary>The code of an unexpected internal error.</summary>
    public const string Code = "LMOE0999";

    /// <summary>
    /// Writes <paramref name="exception"/> with its trace to <c>$XDG_STATE_HOME/llama-moe/crash-TIMESTAMP.txt</c>
    /// (or <c>~/.local/state/llama-moe</c>, or the temp folder when neither can be written) and returns the one line to print.
    /// </summary>
    /// <param name="exception">The unexpected exception.</param>
    /// <param name="commandLine">The arguments of the run, recorded in the trace file.</param>
    public static string Write(Exception exception, IReadOnlyList<string> commandLine)
    {
        var firstLine = (exception.Message ?? string.Empty).Split('\n', 2)[0].TrimEnd('\r');
        var summary = $"{exception.GetType().FullName}: {TerminalText.Escape(firstLine)}";
        var path = TryWrite(exception, commandLine);
        var where = path is null ? "could not be written anywhere (set XDG_STATE_HOME to a writable folder)" : "was written to " + path;
        return $"llama-moe: error {Code}: internal error ({summary}); the full trace {where}. Please report it with that file.";
    }

    private static string? TryWrite(Exception exception, IReadOnlyList<string> commandLine)
    {
        var name = "crash-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture) + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".txt";
        var text = $"llama-moe {string.Join(' ', commandLine)}{Environment.NewLine}{DateTime.UtcNow:O}{Environment.NewLine}{exception}{Environment.NewLine}";
        foreach (var folder in Candidates())
        {
            try
            {
                Directory.CreateDirectory(folder);
                var path = Path.Combine(folder, name);
                File.WriteAllText(path, text);
                return path;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // try the next folder
            }
        }

        return null;
    }

    private static IEnumerable<string> Candidates()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(state) && Path.IsPathRooted(state))
        {
            yield return Path.Combine(state, "llama-moe");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            yield return Path.Combine(home, ".local", "state", "llama-moe");
        }

        yield return Path.Combine(Path.GetTempPath(), "llama-moe");
    }
}
