using System.Diagnostics;
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

        var description = string.Join(' ', arguments);
        return DotnetBuild.RunCaptured(start, description, description);
    }
}
