namespace LlamaMoe;

/// <summary>
/// An error with a stable code (<c>LMOE####</c>), the place it refers to (file, line, column or key) and advice.
/// Every layer (model formats, engine, plugins, CLI) raises this type so the CLI and the MSBuild targets can
/// report it uniformly. Code ranges: 0xxx YAML and options, 1xxx checkpoint and format, 2xxx model and
/// construction, 3xxx training and evaluation, 4xxx build integration. Secret values (<see cref="SecretValues"/>)
/// in the message, file and advice are redacted.
/// </summary>
public class LlamaMoeException : Exception
{
    /// <summary>Creates a coded error.</summary>
    /// <param name="code">The stable code, such as <c>LMOE1003</c>.</param>
    /// <param name="message">What went wrong, in one sentence.</param>
    /// <param name="filePath">The file the error refers to, when there is one.</param>
    /// <param name="key">The key, tensor name or option the error refers to, when there is one.</param>
    /// <param name="advice">What the user should do about it.</param>
    /// <param name="line">1-based line in <paramref name="filePath"/>, or 0.</param>
    /// <param name="column">1-based column in <paramref name="filePath"/>, or 0.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public LlamaMoeException(
        string code,
        string message,
        string? filePath = null,
        string? key = null,
        string? advice = null,
        int line = 0,
        int column = 0,
        Exception? inner = null)
        : base(SecretValues.Redact(message), inner)
    {
        Code = code;
        FilePath = filePath is null ? null : SecretValues.Redact(filePath);
        Key = key;
        Advice = advice is null ? null : SecretValues.Redact(advice);
        Line = line;
        Column = column;
    }

    /// <summary>The stable error code, such as <c>LMOE1003</c>.</summary>
    public string Code { get; }

    /// <summary>The file the error refers to, if any.</summary>
    public string? FilePath { get; }

    /// <summary>The key, tensor or option name the error refers to, if any.</summary>
    public string? Key { get; }

    /// <summary>What the user should do.</summary>
    public string? Advice { get; }

    /// <summary>1-based line, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>
    /// The canonical one-line form, understood by MSBuild and IDEs:
    /// <c>file(line,col): error LMOE####: message. [key] Advice.</c> The message and the advice each read as a sentence:
    /// a period is added to either when it does not already end with terminal punctuation.
    /// </summary>
    public string ToCanonicalString()
    {
        var location = FilePath is null ? "llama-moe" : Line > 0 ? $"{FilePath}({Line},{Math.Max(Column, 1)})" : FilePath;
        var keyPart = Key is null ? string.Empty : $" [{Key}]";
        var advicePart = string.IsNullOrWhiteSpace(Advice) ? string.Empty : " " + AsSentence(Advice);
        var message = string.IsNullOrWhiteSpace(Advice) && Key is null ? Message : AsSentence(Message);
        return $"{location}: error {Code}: {message}{keyPart}{advicePart}";
    }

    /// <summary>
    /// <paramref name="text"/> trimmed and ending with terminal punctuation (<c>.</c>, <c>!</c>, <c>?</c>, or <c>:</c> before
    /// a list; closing quotes and brackets after it count): a period is added when it has none.
    /// </summary>
    public static string AsSentence(string text)
    {
        var trimmed = text.TrimEnd();
        var end = trimmed.Length - 1;
        while (end >= 0 && trimmed[end] is ')' or ']' or '"' or '\'' or '\u201D' or '\u2019' or '`')
        {
            end--;
        }

        return trimmed.Length == 0 || (end >= 0 && trimmed[end] is '.' or '!' or '?' or ':' or '\u2026') ? trimmed : trimmed + ".";
    }
}
