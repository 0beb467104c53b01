namespace LlamaMoe.Build.Tasks;

/// <summary>Finds the <c>dotnet</c> host that should launch the CLI.</summary>
internal static class DotnetHostLocator
{
    /// <summary>
    /// The explicit path when given, else <c>DOTNET_HOST_PATH</c> (the SDK sets it for the host running MSBuild, so the
    /// CLI runs on the same runtime), else the first <paramref name="toolName"/> on PATH, else the bare name.
    /// </summary>
    public static string Resolve(string? explicitPath, string toolName)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return explicitPath;
        }

        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        var searchPath = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var folder in searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, toolName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return toolName;
    }
}
