using System.Reflection;
using LlamaMoe;
using LlamaMoe.Cli;
using LlamaMoe.Modeling;

// Everything on the error stream quotes files, arguments or step messages: escape control characters on the way out.
Console.SetError(TextWriter.Synchronized(new TerminalSafeWriter(Console.Error)));

var commands = typeof(ICliCommand).Assembly.GetTypes()
    .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToDictionary(c => c.Name, StringComparer.Ordinal);

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    if (args.Length > 1 && commands.TryGetValue(args[1], out var helpFor))
    {
        Console.WriteLine(helpFor.Usage);
        return ExitCodes.Success;
    }

    Console.WriteLine("llama-moe: build Mixture-of-Experts models from dense LLaMA checkpoints (LLaMA-MoE v1/v2).");
    Console.WriteLine();
    Console.WriteLine("Usage: llama-moe <command> [options]     llama-moe help <command>");
    Console.WriteLine();
    Console.WriteLine("Commands:");
    foreach (var command in commands.Values)
    {
        Console.WriteLine($"  {command.Name,-10} {command.Summary}");
    }

    Console.WriteLine();
    Console.WriteLine("Exit codes: 0 success, 1 failure with diagnostics, 2 usage error, 3 native runtime unavailable, 4 store locked, 130 cancelled.");
    return ExitCodes.Success;
}

if (args[0] == "--version")
{
    Console.WriteLine(typeof(ICliCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");
    return ExitCodes.Success;
}

if (!commands.TryGetValue(args[0], out var selected))
{
    var suggestion = commands.Keys.OrderBy(k => EditDistance(k, args[0])).First();
    Console.Error.WriteLine($"llama-moe: unknown command '{TerminalText.Escape(args[0])}'. Did you mean '{suggestion}'? Run 'llama-moe --help' for the list.");
    return ExitCodes.Usage;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM,
    ctx =>
    {
        ctx.Cancel = true;
        cancellation.Cancel();
    });

try
{
    if (args.Skip(1).Any(a => a is "--help" or "-h"))
    {
        Console.WriteLine(selected.Usage);
        return ExitCodes.Success;
    }

    return selected.Run(new CliArguments(args[1..], CliFlags.All), cancellation.Token);
}
catch (CliUsageException ex)
{
    Console.Error.WriteLine(TerminalText.Escape($"llama-moe {selected.Name}: {ex.Message}."));
    Console.Error.WriteLine(selected.Usage);
    return ExitCodes.Usage;
}
catch (TorchUnavailableException ex)
{
    Console.Error.WriteLine(ex.Message);
    return ExitCodes.RuntimeUnavailable;
}
catch (LlamaMoeException ex)
{
    Console.Error.WriteLine(TerminalText.Escape(ex.ToCanonicalString(), keepNewlines: true));
    return ExitCodes.Failure;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("llama-moe: cancelled; nothing half-written was published. Run the same command again to resume.");
    return ExitCodes.Cancelled;
}
catch (Exception ex)
{
    // Last resort: never print a stack trace; write it to a file and say where (LMOE0999).
    Console.Error.WriteLine(CrashReport.Write(ex, args));
    return ExitCodes.Failure;
}

static int EditDistance(string a, string b)
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
