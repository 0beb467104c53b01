using System.Diagnostics;
using System.Text;

namespace LlamaMoe.Benchmarks.NoOpBuild;

/// <summary>Runs <c>dotnet</c> commands for the no-op build benchmark and times them.</summary>
internal static class Commands
{
    /// <summary>One command's exit code, wall time and output.</summary>
    public sealed record Result(int ExitCode, double Seconds, string Output);

    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="directory"/> without the caller's MSBuild settings and without leaving build nodes.</summary>
    public static Result Dotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        var output = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        return new Result(process.ExitCode, watch.Elapsed.TotalSeconds, output.ToString());
    }
}
