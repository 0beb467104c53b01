namespace LlamaMoe.Pipeline;

/// <summary>A step-specific option error: the kebab-case key it concerns, what is wrong and what to do.</summary>
/// <param name="Key">The kebab-case option key (the diagnostic points at it), or empty for the whole <c>with:</c> block.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Advice">What to do, if known.</param>
/// <param name="Code">A step-specific LMOE code for the diagnostic (default: the generic invalid-option code).</param>
public sealed record OptionProblem(string Key, string Message, string? Advice = null, string? Code = null);
