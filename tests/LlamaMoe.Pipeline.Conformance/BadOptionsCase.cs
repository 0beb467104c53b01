namespace LlamaMoe.Pipeline.Conformance;

/// <summary>Options a step must reject, and the diagnostic code it must report.</summary>
/// <param name="Options">The <c>with:</c> value as a YAML flow mapping, such as <c>{ experts: 0 }</c>.</param>
/// <param name="ExpectedCode">The expected code, such as <c>LMOE0053</c>.</param>
public sealed record BadOptionsCase(string Options, string ExpectedCode)
{
    /// <inheritdoc />
    public override string ToString() => $"{Options} -> {ExpectedCode}";
}
