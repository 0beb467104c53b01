using System.Diagnostics;
using System.Text;
using LlamaMoe.Build.Tasks.Tests.Integration;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Packaging;

/// <summary>
/// Runs one <c>dotnet</c> command as a user would, in a given folder, with none of the test host's MSBuild settings and
/// no build server left behind (node reuse off). Output is kept and echoed to the test log with the wall time.
/// </summary>
internal static class DotnetCommand
{
    /// <summary>Runs <c>dotnet ARGUMENTS</c> in <paramref name="workingDirectory"/>.</summary>
    public static BuildResult Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var output = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish in 10 minutes:\n{output}");
        }

        process.WaitForExit();
        var result = new BuildResult(process.ExitCode, output.ToString(), watch.Elapsed);
        TestContext.Out.WriteLine($"--- dotnet {string.Join(' ', arguments)}: exit {result.ExitCode} in {result.Elapsed.TotalSeconds:F1} s");
        TestContext.Out.WriteLine(result.Output);
        return result;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
