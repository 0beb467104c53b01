using System.Text;
using LlamaMoe.Pipeline.Diagnostics;

namespace LlamaMoe.Pipeline.Definition;

/// <summary>
/// Expands <c>${var}</c>, <c>${env:NAME}</c>, <c>${secret:NAME}</c> and <c>${stages.ID.outputs.NAME}</c> in scalar
/// values; <c>$${</c> is a literal <c>${</c>. <c>${secret:NAME}</c> reads the environment variable NAME as a secret; so
/// does <c>${env:NAME}</c> when NAME looks secret (<see cref="SecretValues.IsSecretName"/>): such values are registered
/// with <see cref="SecretValues"/> and never shown. Stage outputs are known only while running; before that a value that uses one is "deferred".
/// </summary>
public sealed class Interpolator
{
    private readonly IReadOnlyDictionary<string, string> vars;
    private readonly Func<string, string?> environment;
    private readonly Func<string, string, string?>? stageOutputs;

    /// <summary>Creates an interpolator.</summary>
    /// <param name="vars">Pipeline variables.</param>
    /// <param name="environment">Environment lookup.</param>
    /// <param name="stageOutputs">Stage output lookup (stage id, output name) while running; null before.</param>
    public Interpolator(IReadOnlyDictionary<string, string> vars, Func<string, string?> environment, Func<string, string, string?>? stageOutputs = null)
    {
        this.vars = vars;
        this.environment = environment;
        this.stageOutputs = stageOutputs;
    }

    /// <summary>Expands <paramref name="text"/>. Returns null when the value is deferred (needs a stage output not yet known).</summary>
    /// <param name="text">The scalar text.</param>
    /// <param name="location">Where the scalar is, for diagnostics.</param>
    /// <param name="allowedStages">Stages whose outputs may be referenced (the stage's needs), or null when none may.</param>
    /// <param name="diagnostics">Receives problems.</param>
    public string? Expand(string text, SourceLocation location, IReadOnlySet<string>? allowedStages, ICollection<Diagnostic> diagnostics)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder();
        var deferred = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 2 < text.Length && text[i + 1] == '$' && text[i + 2] == '{')
            {
                result.Append("${");
                i += 2;
                continue;
            }

            if (text[i] != '$' || i + 1 >= text.Length || text[i + 1] != '{')
            {
                result.Append(text[i]);
                continue;
            }

            var end = text.IndexOf('}', i + 2);
            if (end < 0)
            {
                diagnostics.Add(location.Error(DiagnosticCodes.BadInterpolation, $"unterminated '${{' in '{text}'", "Close it with '}' or write '$${' for a literal."));
                return null;
            }

            var expression = text[(i + 2)..end];
            var value = Evaluate(expression, location, allowedStages, diagnostics, out var isDeferred);
            deferred |= isDeferred;
            result.Append(value);
            i = end;
        }

        return deferred ? null : result.ToString();
    }

    private string Evaluate(string expression, SourceLocation location, IReadOnlySet<string>? allowedStages, ICollection<Diagnostic> diagnostics, out bool deferred)
    {
        deferred = false;
        var isSecret = expression.StartsWith("secret:", StringComparison.Ordinal);
        if (isSecret || expression.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = expression[(isSecret ? 7 : 4)..];
            var value = name.Length == 0 ? null : environment(name);
            if (value is null)
            {
                diagnostics.Add(location.Error(DiagnosticCodes.MissingEnvironmentVariable, $"environment variable '{name}' is not set",
                    isSecret ? $"Set {name} before running." : $"Set {name} before running, or define the value under 'vars:'."));
            }
            else if (isSecret || SecretValues.IsSecretName(name))
            {
                SecretValues.Register(value);
            }

            return value ?? string.Empty;
        }

        if (expression.StartsWith("stages.", StringComparison.Ordinal))
        {
            var parts = expression.Split('.');
            if (parts.Length != 4 || parts[2] != "outputs" || parts[1].Length == 0 || parts[3].Length == 0)
            {
                diagnostics.Add(location.Error(DiagnosticCodes.BadInterpolation, $"'${{{expression}}}' is malformed", "Write ${stages.ID.outputs.NAME}."));
                return string.Empty;
            }

            if (allowedStages is null || !allowedStages.Contains(parts[1]))
            {
                diagnostics.Add(location.Error(DiagnosticCodes.BadStageReference, $"'${{{expression}}}' refers to stage '{parts[1]}', which this stage does not need", $"Add '{parts[1]}' to this stage's 'needs'."));
                return string.Empty;
            }

            var output = stageOutputs?.Invoke(parts[1], parts[3]);
            if (stageOutputs is null)
            {
                deferred = true;
                return string.Empty;
            }

            if (output is null)
            {
                diagnostics.Add(location.Error(DiagnosticCodes.BadStageReference, $"stage '{parts[1]}' has no output '{parts[3]}'", "Built-in outputs are 'path' and 'digest'; others are set by the step."));
            }

            return output ?? string.Empty;
        }

        if (vars.TryGetValue(expression, out var variable))
        {
            return variable;
        }

        var suggestion = Suggestions.DidYouMean(expression, vars.Keys);
        var looksValid = expression.Length > 0 && expression.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        diagnostics.Add(looksValid
            ? location.Error(DiagnosticCodes.UnknownVariable, $"unknown variable '{expression}'", suggestion ?? "Define it under 'vars:'.")
            : location.Error(DiagnosticCodes.BadInterpolation, $"'${{{expression}}}' is malformed", "Use ${var}, ${env:NAME}, ${secret:NAME} or ${stages.ID.outputs.NAME}."));
        return string.Empty;
    }
}
