using System.Globalization;
using System.Text;

namespace LlamaMoe.Cli;

/// <summary>Makes text that came from files or arguments safe to echo to a terminal.</summary>
public static class TerminalText
{
    /// <summary>
    /// Replaces control characters (C0, DEL, C1, and the bidirectional overrides) with visible escapes such as <c>\x1b</c>
    /// or <c>\u202e</c>, so a name read from a file cannot move the cursor, recolour or rewrite the terminal.
    /// Newlines are escaped too unless <paramref name="keepNewlines"/> is set.
    /// </summary>
    /// <param name="text">The text to print.</param>
    /// <param name="keepNewlines">Keep <c>\n</c> as a line break (for multi-line messages).</param>
    public static string Escape(string text, bool keepNewlines = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = true;
        foreach (var c in text)
        {
            if (NeedsEscape(c, keepNewlines))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c, keepNewlines))
            {
                builder.Append(c);
            }
            else if (c < 0x100)
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// <see cref="Escape"/> for multi-line text read from files or produced by a model (generated text, messages):
    /// line breaks and tabs stay, every other control character becomes a visible escape.
    /// </summary>
    /// <param name="text">The text to print.</param>
    public static string EscapeText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains('\t', StringComparison.Ordinal))
        {
            return Escape(text, keepNewlines: true);
        }

        var parts = text.Split('\t');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = Escape(parts[i], keepNewlines: true);
        }

        return string.Join('\t', parts);
    }

    private static bool NeedsEscape(char c, bool keepNewlines) =>
        (c == '\n' && !keepNewlines) || (c != '\n' && c < 0x20) || (c >= 0x7f && c < 0xa0) || c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069';
}
