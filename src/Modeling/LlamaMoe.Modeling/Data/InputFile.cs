using System.Text;

namespace LlamaMoe.Modeling.Data;

/// <summary>
/// Guards for reading user-named input files: only regular files are opened (a directory, FIFO, socket or device such as
/// <c>/dev/zero</c> is refused before it is opened, so nothing blocks or reads forever), and text is read with a cap on
/// the length of one line so a file without line breaks cannot exhaust memory.
/// </summary>
public static class InputFile
{
    /// <summary>The longest line (in characters) a text or JSON-lines data file may hold: 1 MiB.</summary>
    public const int MaxLineChars = 1 << 20;

    /// <summary>LMOE0901: a directory was named where a file is expected.</summary>
    public const string IsDirectoryCode = "LMOE0901";

    /// <summary>LMOE0902: a FIFO, socket or device was named where a regular file is expected.</summary>
    public const string NotRegularCode = FileKind.NotRegularCode;

    /// <summary>LMOE0903: a line of a text data file is longer than <see cref="MaxLineChars"/>.</summary>
    public const string LineTooLongCode = "LMOE0903";

    /// <summary>
    /// Throws <see cref="DataErrors.FileNotFound"/> (LMOE3001) when <paramref name="path"/> does not exist, LMOE0901 when it is a
    /// directory and LMOE0902 when it is not a regular file (FIFO, socket, character or block device).
    /// </summary>
    /// <param name="path">The file to check (symbolic links are followed).</param>
    /// <param name="key">The option or key that named the file, for the message.</param>
    public static void EnsureRegularFile(string path, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new LlamaMoeException(IsDirectoryCode, "a directory was given where a file is expected", path, key,
                "Name a file inside the directory instead (for MMLU, the folder holding test/ is the only folder accepted).");
        }

        if (!File.Exists(path))
        {
            throw DataErrors.FileNotFound(path);
        }

        FileKind.RefuseSpecial(path, key);
    }

    /// <summary>Opens a regular file for reading after <see cref="EnsureRegularFile"/>.</summary>
    /// <param name="path">The file to open.</param>
    /// <param name="key">The option or key that named the file, for messages.</param>
    public static FileStream OpenRead(string path, string? key = null)
    {
        EnsureRegularFile(path, key);
        return File.OpenRead(path);
    }

    /// <summary>
    /// Reads a whole UTF-8 text file after <see cref="EnsureRegularFile"/>, refusing (LMOE0903, with file and line) any line
    /// longer than <see cref="MaxLineChars"/> characters before it is held in memory.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="key">The option or key that named the file, for messages.</param>
    public static string ReadAllText(string path, string? key = null)
    {
        using var reader = new StreamReader(OpenRead(path, key), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return ReadAllText(reader, path, key);
    }

    /// <summary>Reads all of <paramref name="reader"/> with the line-length cap of <see cref="ReadAllText(string, string?)"/>.</summary>
    /// <param name="reader">The text to read.</param>
    /// <param name="path">The file the text comes from, for messages.</param>
    /// <param name="key">The option or key that named the file, for messages.</param>
    public static string ReadAllText(TextReader reader, string path, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var builder = new StringBuilder();
        var buffer = new char[64 * 1024];
        var line = 1;
        var lineLength = 0;
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    line++;
                    lineLength = 0;
                }
                else if (++lineLength > MaxLineChars)
                {
                    throw LineTooLong(path, line, key);
                }
            }

            builder.Append(buffer, 0, read);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Reads the next line of <paramref name="reader"/> (without its line break), or null at the end; throws LMOE0903 naming
    /// <paramref name="path"/> and <paramref name="lineNumber"/> when the line is longer than <see cref="MaxLineChars"/>.
    /// </summary>
    /// <param name="reader">The text to read.</param>
    /// <param name="path">The file the text comes from, for messages.</param>
    /// <param name="lineNumber">The 1-based number of the line about to be read, for messages.</param>
    public static string? ReadLine(TextReader reader, string path, int lineNumber)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var builder = new StringBuilder();
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                return builder.Length == 0 ? null : builder.ToString();
            }

            if (c == '\n')
            {
                return builder.Length > 0 && builder[^1] == '\r' ? builder.ToString(0, builder.Length - 1) : builder.ToString();
            }

            if (builder.Length >= MaxLineChars)
            {
                throw LineTooLong(path, lineNumber, null);
            }

            builder.Append((char)c);
        }
    }

    private static LlamaMoeException LineTooLong(string path, int line, string? key) => new(
        LineTooLongCode, $"line {line} is longer than {MaxLineChars:N0} characters (1 MiB); data lines are capped so one line cannot exhaust memory", path, key,
        "Split the text into lines, or check that the file is the data you meant (not a binary file).", line);
}
