namespace LlamaMoe.Benchmarks.NoOpBuild;

/// <summary>Makes a model-build repository from this checkout's packages the way a user does, and finds its CLI.</summary>
internal static class TemplateRepository
{
    /// <summary>
    /// Packs the checkout (built in Release) into <c>SCRATCH/feed</c>, installs the templates into a private hive, creates
    /// <c>SCRATCH/repo</c> with <c>dotnet new llamamoe-repo --feed</c> and builds it once. Returns the repository, or null.
    /// </summary>
    public static string? Create(string scratch, TextWriter log)
    {
        var root = FindCheckout();
        if (root is null)
        {
            log.WriteLine("noop-build: LlamaMoe.sln not found above the benchmark; give --repo DIR");
            return null;
        }

        var feed = Path.Combine(scratch, "feed");
        var hive = Path.Combine(scratch, "hive");
        var repo = Path.Combine(scratch, "repo");
        var suffix = $"bench.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var steps = new (string What, Func<Commands.Result> Run)[]
        {
            ("pack", () => Commands.Dotnet(root, "pack", Path.Combine(root, "LlamaMoe.sln"), "-c", "Release", "--no-build", "-o", feed, "-p:VersionSuffix=" + suffix, "-nodeReuse:false", "-v:m")),
            ("template install", () => Commands.Dotnet(scratch, "new", "install", Directory.GetFiles(feed, "LlamaMoe.Templates.*.nupkg").Single(), "--debug:custom-hive", hive)),
            ("dotnet new", () => Commands.Dotnet(scratch, "new", "llamamoe-repo", "-n", "Bench", "-o", repo, "--feed", feed, "--debug:custom-hive", hive)),
            ("first build", () => Commands.Dotnet(repo, "build", "-nodeReuse:false", "-tl:off", "-v:m")),
        };
        Directory.CreateDirectory(scratch);
        foreach (var (what, run) in steps)
        {
            var result = run();
            log.WriteLine($"noop-build: {what}: {result.Seconds:F1} s");
            if (result.ExitCode != 0)
            {
                log.WriteLine(result.Output);
                return null;
            }
        }

        return repo;
    }

    /// <summary>The llama-moe.dll that LlamaMoe.Build restored for the repository (from its tool manifest under obj/), or null.</summary>
    public static string? CliOf(string repo)
    {
        var manifest = Directory.GetFiles(repo, "dotnet-tools.json", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains("llamamoe", StringComparison.Ordinal));
        if (manifest is null)
        {
            return null;
        }

        var version = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("tools").GetProperty("llamamoe.cli").GetProperty("version").GetString()!;
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cli = Path.Combine(cache, "llamamoe.cli", version.ToLowerInvariant(), "tools", "net10.0", "any", "llama-moe.dll");
        return File.Exists(cli) ? cli : null;
    }

    private static string? FindCheckout()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlamaMoe.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
