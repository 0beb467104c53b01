namespace LlamaMoe.Testing;

/// <summary>Finds the repository root (the folder holding LlamaMoe.sln) from a test's output folder.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LlamaMoe.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("LlamaMoe.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The build configuration the tests were built in (Debug or Release), read from the output path.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
