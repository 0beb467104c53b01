using System.Diagnostics;
using System.Text;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>The outcome of one <c>dotnet build</c> (or clean) run.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Output">stdout and stderr, interleaved as they arrived.</param>
/// <param name="Elapsed">Wall time.</param>
internal sealed record BuildResult(int ExitCode, string Output, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs <c>dotnet build</c> on a project outside the repository with the LlamaMoe.Build targets imported from this
/// checkout. The CLI and the task DLL are the ones this test project already built (never rebuilt here), handed over
/// as properties, so a build costs only MSBuild start-up plus the pipeline run.
/// </summary>
internal static class DotnetBuild
{
    private static readonly string Configuration = RepositoryPaths.Configuration;

    /// <summary>The CLI that the test project's build produced.</summary>
    public static string CliPath => Path.Combine(RepositoryPaths.Root, "src", "Pipeline", "LlamaMoe.Cli", "bin", Configuration, "net10.0", "llama-moe.dll");

    /// <summary>The task assembly that the test project's build produced.</summary>
    public static string TasksAssembly => Path.Combine(RepositoryPaths.Root, "src", "Build.Tasks", "LlamaMoe.Build.Tasks", "bin", Configuration, "net10.0", "LlamaMoe.Build.Tasks.dll");

    /// <summary>Runs <c>dotnet &lt;verb&gt; &lt;project&gt;</c> with the reuse properties and the extra arguments.</summary>
    public static BuildResult Run(string verb, string project, params string[] extraArguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var argument in new[]
        {
            verb, project, "-nodeReuse:false", "-tl:off", "-v:n", "-nologo",
            "-p:LlamaMoeRepoRoot=" + RepositoryPaths.Root + "/",
            "-p:LlamaMoeBuildInRepoTools=false",
            "-p:LlamaMoeCliPath=" + CliPath,
            "-p:LlamaMoeTasksAssembly=" + TasksAssembly,
        }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's own MSBuild settings must not leak into the child build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && k != "MSBUILDDISABLENODEREUSE").ToList())
        {
            start.Environment.Remove(name);
        }

        return RunCaptured(start, $"{verb} {project}", $"{verb} {Path.GetFileName(project)} {string.Join(' ', extraArguments)}");
    }

    /// <summary>
    /// Runs <paramref name="start"/> (redirected) to completion within 10 minutes, keeping stdout and stderr interleaved as
    /// they arrive, and echoes the exit code, wall time and output to the test log as <c>--- dotnet LOGNAME</c>.
    /// </summary>
    /// <param name="start">The process to run.</param>
    /// <param name="name">What the timeout failure names after <c>dotnet</c>.</param>
    /// <param name="logName">What the test log names after <c>dotnet</c>.</param>
    public static BuildResult RunCaptured(ProcessStartInfo start, string name, string logName)
    {
        ArgumentNullException.ThrowIfNull(start);
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
            Assert.Fail($"dotnet {name} did not finish in 10 minutes:\n{output}");
        }

        process.WaitForExit();
        var result = new BuildResult(process.ExitCode, output.ToString(), watch.Elapsed);
        TestContext.Out.WriteLine($"--- dotnet {logName}: exit {result.ExitCode} in {result.Elapsed.TotalSeconds:F1} s");
        TestContext.Out.WriteLine(result.Output);
        return result;
    }

    /// <summary>Fails the test with the build output when the build failed.</summary>
    public static BuildResult ShouldSucceed(this BuildResult result)
    {
        Assert.That(result.Succeeded, Is.True, "the build failed:\n" + result.Output);
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
