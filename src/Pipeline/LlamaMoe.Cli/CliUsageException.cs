namespace LlamaMoe.Cli;

/// <summary>
/// A command-line usage error: unknown option or command, missing argument, a value of the wrong type or out of range,
/// a single-value option given twice. Printed as <c>error LMOE0920</c> with a hint to <c>--help</c>; exit code 2.
/// </summary>
public sealed class CliUsageException(string message) : Exception(message)
{
    /// <summary>LMOE0920: the command line itself is wrong (see the message; <c>llama-moe COMMAND --help</c> lists the options).</summary>
    public const string Code = "LMOE0920";
}
