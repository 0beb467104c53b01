using LlamaMoe;
using LlamaMoe.Cli;
using LlamaMoe.Modeling;

// Everything on the error stream quotes files, arguments or step messages: escape control characters on the way out.
Console.SetError(TextWriter.Synchronized(new TerminalSafeWriter(Console.Error)));

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
    return new CliApplication().Run(args, cancellation.Token);
}
catch (TorchUnavailableException ex)
{
    Console.Error.WriteLine(ex.Message);
    return ExitCodes.RuntimeUnavailable;
}
catch (LlamaMoeException ex) when (ex.Code == CudaRequirement.NoCudaDeviceCode)
{
    Console.Error.WriteLine(TerminalText.Escape(ex.ToCanonicalString(), keepNewlines: true));
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
