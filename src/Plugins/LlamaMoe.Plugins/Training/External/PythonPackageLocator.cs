namespace LlamaMoe.Plugins.Training.External;

/// <summary>
/// Finds the Python package <c>llamamoe_hf</c> copied into every bundle: LLAMAMOE_PYTHON_PACKAGE when set, else the copy the
/// build places beside the tool (<c>python/llamamoe_hf</c>, an MSBuild content item), else <c>python/llamamoe_hf</c> in a
/// parent folder of the tool (a source checkout). LMOE3404 when none exists.
/// </summary>
public static class PythonPackageLocator
{
    /// <summary>The environment variable that names the package folder.</summary>
    public const string EnvironmentVariable = "LLAMAMOE_PYTHON_PACKAGE";

    /// <summary>The package folder (holding <c>__init__.py</c>).</summary>
    public static string Locate()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            candidates.Add(Path.GetFullPath(configured));
        }
        else
        {
            candidates.Add(Path.Combine(AppContext.BaseDirectory, "python", "llamamoe_hf"));
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                candidates.Add(Path.Combine(directory.FullName, "python", "llamamoe_hf"));
            }
        }

        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "__init__.py")))
            ?? throw new LlamaMoeException(ExternalTrainingErrorCodes.PythonPackageMissing,
                $"the Python package llamamoe_hf was not found (looked in {candidates[0]}{(candidates.Count > 1 ? " and the parent folders' python/" : string.Empty)})",
                key: "executor", advice: $"Set {EnvironmentVariable} to the python/llamamoe_hf folder of a LlamaMoe checkout.");
    }

    /// <summary>Copies the package (no caches or compiled files) into <paramref name="destination"/>.</summary>
    public static void CopyTo(string package, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(package, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(package, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "__pycache__" or ".pytest_cache" or ".mypy_cache") || file.EndsWith(".pyc", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
