namespace LlamaMoe.Pipeline.Diagnostics;

/// <summary>A place in a pipeline file.</summary>
/// <param name="File">The file path.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>A diagnostic at this place.</summary>
    public Diagnostic Error(string code, string message, string? advice = null) => new(code, message, File, Line, Column, advice);
}
