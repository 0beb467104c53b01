using System.Diagnostics;
using LlamaMoe.Testing;

namespace LlamaMoe.Cli.Tests;

/// <summary>Starts the built llama-moe CLI as a child process.</summary>
internal static class CliProcess
{
    public static string CliDll => Path.Combine(RepositoryPaths.Root, "src", "Pipeline", "LlamaMoe.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "llama-moe.dll");

    public static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(CliDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    public static (int ExitCode, string Output, string Error) Run(params string[] arguments)
    {
        using var process = Start(arguments);
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("llama-moe did not finish: " + string.Join(' ', arguments));
        }

        return (process.ExitCode, output, error.Result);
    }
}
