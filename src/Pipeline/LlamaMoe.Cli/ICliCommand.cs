namespace LlamaMoe.Cli;

/// <summary>
/// One <c>llama-moe</c> subcommand. Commands are discovered by reflection in this assembly, one class per file
/// under <c>Commands/</c>, so adding a command never touches a shared registry.
/// </summary>
public interface ICliCommand
{
    /// <summary>The subcommand name, such as <c>import</c>.</summary>
    string Name { get; }

    /// <summary>One-line summary for <c>--help</c>.</summary>
    string Summary { get; }

    /// <summary>Usage text, starting with <c>llama-moe NAME</c>.</summary>
    string Usage { get; }

    /// <summary>Runs the command and returns its exit code (see <see cref="ExitCodes"/>).</summary>
    int Run(CliArguments arguments, CancellationToken cancellationToken);
}
