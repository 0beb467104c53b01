namespace LlamaMoe.Pipeline.Diagnostics;

/// <summary>Raised when a pipeline has one or more diagnostics; carries all of them (the first is the exception's own).</summary>
public sealed class PipelineDiagnosticsException : LlamaMoeException
{
    /// <summary>Wraps the diagnostics (at least one).</summary>
    public PipelineDiagnosticsException(IReadOnlyList<Diagnostic> diagnostics)
        : base(diagnostics[0].Code, diagnostics[0].Message, diagnostics[0].File, advice: diagnostics[0].Advice, line: diagnostics[0].Line, column: diagnostics[0].Column)
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Every diagnostic, in file order.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }
}
