using System.CommandLine;

namespace LlamaMoe.Cli;

/// <summary>
/// One <c>llama-moe</c> subcommand. Commands are discovered by reflection in this assembly, one class per file
/// under <c>Commands/</c>, so adding a command never touches a shared registry. Each declares its arguments and
/// options once, as System.CommandLine symbols: parsing, <c>--help</c> and shell completion all come from them.
/// </summary>
public interface ICliCommand
{
    /// <summary>The subcommand name, such as <c>import</c>.</summary>
    string Name { get; }

    /// <summary>One-line summary for <c>--help</c>.</summary>
    string Summary { get; }

    /// <summary>The command's arguments and options (without an action; <see cref="CliApplication"/> attaches it).</summary>
    IEnumerable<Symbol> Symbols { get; }

    /// <summary>Runs the command on a parse result free of errors and returns its exit code (see <see cref="ExitCodes"/>).</summary>
    int Run(ParseResult parse, CancellationToken cancellationToken);
}
