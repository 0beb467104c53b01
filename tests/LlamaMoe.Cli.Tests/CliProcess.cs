using System.Diagnostics;

namespace LlamaMoe.Cli.Tests;

/// <summary>Runs the built llama-moe.dll as a child process and captures its output.</summary>
internal static class CliProcess
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "llama-moe.dll");

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("llama-moe " + string.Join(' ', args) + " did not finish in 5 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
