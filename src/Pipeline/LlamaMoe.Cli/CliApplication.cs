using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace LlamaMoe.Cli;

/// <summary>
/// The <c>llama-moe</c> command tree, built with System.CommandLine from the <see cref="ICliCommand"/> classes:
/// POSIX options (<c>--opt value</c>, <c>--opt=value</c>, <c>--</c>), generated <c>--help</c> per command, the
/// <c>[suggest]</c> completion directive, and response files (<c>@file</c>, one or more arguments per line).
/// Every parse error is reported as <see cref="CliUsageException.Code"/> with exit code 2 and a hint to <c>--help</c>.
/// </summary>
public sealed class CliApplication
{
    /// <summary>The line printed under the root help and in the README: the process exit codes.</summary>
    public const string ExitCodesLine = "Exit codes: 0 success, 1 failure with diagnostics, 2 usage error, 3 native runtime unavailable, 4 store locked, 130 cancelled.";

    private readonly Dictionary<Command, ICliCommand> handlers = [];
    private CancellationToken cancellationToken;

    /// <summary>Builds the tree from every command class in this assembly.</summary>
    public CliApplication()
    {
        Commands = typeof(ICliCommand).Assembly.GetTypes()
            .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        Root = new RootCommand("llama-moe: build Mixture-of-Experts models from dense LLaMA checkpoints (LLaMA-MoE v1/v2).");
        foreach (var handler in Commands)
        {
            var command = new Command(handler.Name, handler.Summary);
            foreach (var symbol in handler.Symbols)
            {
                switch (symbol)
                {
                    case Argument argument:
                        command.Add(argument);
                        break;
                    case Option option:
                        command.Add(option);
                        break;
                    default:
                        throw new InvalidOperationException($"command {handler.Name} declares a {symbol.GetType().Name}, which is neither an argument nor an option");
                }
            }

            command.SetAction(parse => handler.Run(parse, cancellationToken));
            handlers[command] = handler;
            Root.Add(command);
        }

        var help = Root.Options.OfType<HelpOption>().Single();
        var helpAction = new HelpWithExitCodes((HelpAction)help.Action!);
        help.Action = helpAction;
        Root.SetAction(helpAction.Invoke);
    }

    /// <summary>The commands, by name.</summary>
    public IReadOnlyList<ICliCommand> Commands { get; }

    /// <summary>The System.CommandLine root (for completion and help tests).</summary>
    public RootCommand Root { get; }

    /// <summary>Parses <paramref name="args"/> (<c>help CMD</c> is read as <c>CMD --help</c>).</summary>
    public ParseResult Parse(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0] == "help")
        {
            args = args.Count == 1 ? ["--help"] : [args[1], "--help"];
        }

        return Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = ResponseFiles.TryExpand });
    }

    /// <summary>
    /// Parses and runs. Usage errors print LMOE0920 on stderr and return 2; other exceptions propagate to the caller,
    /// which turns them into coded errors and exit codes. Help goes to <paramref name="output"/> (default stdout).
    /// </summary>
    public int Run(IReadOnlyList<string> args, CancellationToken cancellation, TextWriter? output = null)
    {
        cancellationToken = cancellation;
        var parse = Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            return ReportUsageErrors(parse.CommandResult.Command, parse.Errors.Select(e => e.Message).ToList(), parse);
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = output ?? Console.Out });
        }
        catch (CliUsageException ex)
        {
            return ReportUsageErrors(parse.CommandResult.Command, [ex.Message], parse);
        }
    }

    private int ReportUsageErrors(Command command, IReadOnlyList<string> messages, ParseResult parse)
    {
        var name = command is RootCommand ? "llama-moe" : "llama-moe " + command.Name;
        if (command is RootCommand && parse.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is { } unknown)
        {
            var suggestion = Commands.Select(c => c.Name).OrderBy(n => EditDistance(n, unknown)).First();
            messages = [$"unknown command '{unknown}'. Did you mean '{suggestion}'?"];
        }

        foreach (var message in messages)
        {
            var sentence = message.TrimEnd().EndsWith('.') || message.TrimEnd().EndsWith('?') ? message.TrimEnd() : message.TrimEnd() + ".";
            Console.Error.WriteLine(TerminalText.Escape($"{name}: error {CliUsageException.Code}: {sentence} Run '{name} --help' for the usage."));
        }

        return ExitCodes.Usage;
    }

    /// <summary>Levenshtein distance, for "did you mean".</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>The generated help, plus the exit codes under the root help.</summary>
    private sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            if (parseResult.CommandResult.Command is RootCommand)
            {
                parseResult.InvocationConfiguration.Output.WriteLine(ExitCodesLine);
            }

            return ExitCodes.Success;
        }
    }
}
