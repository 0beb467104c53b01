namespace LlamaMoe.Pipeline.Diagnostics;

/// <summary>One located problem in a pipeline: a stable code, the place and an optional suggestion.</summary>
/// <param name="Code">The stable code (<c>LMOE0###</c>, see <see cref="DiagnosticCodes"/>).</param>
/// <param name="Message">What is wrong.</param>
/// <param name="File">The file.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
/// <param name="Advice">A suggestion ("did you mean ...?") or what to do.</param>
public sealed record Diagnostic(string Code, string Message, string? File, int Line, int Column, string? Advice = null)
{
    /// <summary>What is wrong, with secret values redacted.</summary>
    public string Message { get; init; } = SecretValues.Redact(Message);

    /// <summary>A suggestion or what to do, with secret values redacted.</summary>
    public string? Advice { get; init; } = Advice is null ? null : SecretValues.Redact(Advice);

    /// <summary>The canonical form <c>file(line,col): error LMOE0###: message advice</c>.</summary>
    public override string ToString() => ToException().ToCanonicalString();

    /// <summary>The same problem as the coded exception type used everywhere.</summary>
    public LlamaMoeException ToException() => new(Code, Message, File, advice: Advice, line: Line, column: Column);

    /// <summary>A diagnostic from a coded exception.</summary>
    public static Diagnostic From(LlamaMoeException ex) => new(ex.Code, ex.Message, ex.FilePath, ex.Line, ex.Column, ex.Advice);
}
