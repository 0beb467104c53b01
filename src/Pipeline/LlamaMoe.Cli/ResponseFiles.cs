using System.Text;

namespace LlamaMoe.Cli;

/// <summary>
/// Expands <c>@FILE</c> into the arguments written in FILE: whitespace-separated, double quotes group words
/// (<c>--prompt "Once upon"</c>), blank lines and lines starting with <c>#</c> are skipped. An <c>@word</c> that
/// names no file stays a literal argument, so a prompt such as <c>@bob hi</c> is passed through unchanged.
/// </summary>
public static class ResponseFiles
{
    /// <summary>The replacer System.CommandLine calls with the text after <c>@</c>.</summary>
    public static bool TryExpand(string path, out IReadOnlyList<string>? tokens, out string? error)
    {
        tokens = null;
        error = null;
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            tokens = File.ReadLines(path)
                .Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith('#'))
                .SelectMany(Split)
                .ToList();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"the response file '{path}' cannot be read: {ex.Message}";
            return false;
        }
    }

    /// <summary>Splits one line at whitespace outside double quotes; the quotes themselves are removed.</summary>
    public static IEnumerable<string> Split(string line)
    {
        var current = new StringBuilder();
        var quoted = false;
        var started = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
                started = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (started)
                {
                    yield return current.ToString();
                    current.Clear();
                    started = false;
                }
            }
            else
            {
                current.Append(c);
                started = true;
            }
        }

        if (started)
        {
            yield return current.ToString();
        }
    }
}
