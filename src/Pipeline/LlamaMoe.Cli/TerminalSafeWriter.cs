using System.Text;

namespace LlamaMoe.Cli;

/// <summary>
/// A <see cref="TextWriter"/> that escapes control characters (see <see cref="TerminalText.Escape"/>) on their way to
/// the terminal, keeping line breaks and tabs. The CLI routes its error stream through one, so no message, whatever file
/// or argument it quotes, can move the cursor, recolour, clear or rewrite the terminal.
/// </summary>
public sealed class TerminalSafeWriter : TextWriter
{
    private readonly TextWriter inner;

    /// <summary>Wraps <paramref name="inner"/> (not disposed with this writer).</summary>
    public TerminalSafeWriter(TextWriter inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        NewLine = inner.NewLine;
    }

    /// <inheritdoc />
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc />
    public override void Write(char value)
    {
        if (value is '\n' or '\t')
        {
            inner.Write(value);
        }
        else
        {
            inner.Write(TerminalText.Escape(value.ToString(), keepNewlines: true));
        }
    }

    /// <inheritdoc />
    public override void Write(string? value)
    {
        if (value is not null)
        {
            inner.Write(TerminalText.EscapeText(value));
        }
    }

    /// <inheritdoc />
    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    /// <inheritdoc />
    public override void WriteLine(string? value)
    {
        Write(value);
        inner.WriteLine();
    }

    /// <inheritdoc />
    public override void WriteLine() => inner.WriteLine();

    /// <inheritdoc />
    public override void Flush() => inner.Flush();
}
