using System.Globalization;
using System.Text.RegularExpressions;

namespace LlamaMoe.Build.Tasks;

/// <summary>The severity of a <see cref="CanonicalDiagnostic"/>.</summary>
public enum DiagnosticSeverity
{
    /// <summary>A warning: the build continues and succeeds.</summary>
    Warning,

    /// <summary>An error: the build fails.</summary>
    Error,
}

/// <summary>
/// One diagnostic line in the canonical MSBuild form the <c>llama-moe</c> CLI prints,
/// <c>file(line,col): error LMOE0123: message</c>. The origin may be a file with or without a position, or a tool
/// name such as <c>llama-moe</c>.
/// </summary>
/// <param name="Origin">The file path or tool name before the colon.</param>
/// <param name="Line">1-based line, or 0 when the line did not give one.</param>
/// <param name="Column">1-based column, or 0 when the line did not give one.</param>
/// <param name="Severity">Error or warning.</param>
/// <param name="Code">The diagnostic code, such as <c>LMOE0012</c>.</param>
/// <param name="Message">The message text after the code.</param>
public sealed record CanonicalDiagnostic(string Origin, int Line, int Column, DiagnosticSeverity Severity, string Code, string Message)
{
    // origin, optional (line) or (line,col), ": ", severity, code, ": ", message. The origin is matched lazily so a
    // Windows drive letter or a colon inside the path does not end it early; the code must look like LETTERS+DIGITS.
    private static readonly Regex Pattern = new(
        @"^\s*(?<origin>.*?)(?:\((?<line>\d+)(?:,(?<col>\d+))?\))?\s*:\s*(?<sev>error|warning)\s+(?<code>[A-Za-z]+\d+)\s*:\s*(?<msg>.*)$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking, // linear in the line length: no timeout on hostile output
        TimeSpan.FromSeconds(1));

    /// <summary>True when the origin names a file (it has a position, or it is not the tool name).</summary>
    public bool HasFile => Line > 0 || Origin.Contains('/', StringComparison.Ordinal) || Origin.Contains('\\', StringComparison.Ordinal)
        || Origin.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || Origin.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses one output line; returns null when the line is not a canonical diagnostic.</summary>
    public static CanonicalDiagnostic? TryParse(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }

        Match match;
        try
        {
            match = Pattern.Match(line);
        }
        catch (RegexMatchTimeoutException)
        {
            return null; // printed as a plain message
        }

        if (!match.Success)
        {
            return null;
        }

        var origin = match.Groups["origin"].Value.Trim();
        if (origin.Length == 0)
        {
            return null;
        }

        return new CanonicalDiagnostic(
            origin,
            ParseNumber(match.Groups["line"]),
            ParseNumber(match.Groups["col"]),
            match.Groups["sev"].Value == "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
            match.Groups["code"].Value.ToUpperInvariant(),
            match.Groups["msg"].Value.Trim());
    }

    private static int ParseNumber(Group group) =>
        group.Success && int.TryParse(group.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
