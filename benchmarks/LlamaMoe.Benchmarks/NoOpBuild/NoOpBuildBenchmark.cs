using System.Diagnostics;
using System.Globalization;
using LlamaMoe.Modeling;

namespace LlamaMoe.Benchmarks.NoOpBuild;

/// <summary>
/// <c>--only noop-build</c>: how long a <c>dotnet build</c> of a model-build repository takes when its pipelines are up to
/// date (issue 16's target: under 5 s), and where that time goes: restore, MSBuild with the plugin project, the CLI's
/// process start, the CLI's up-to-date check, and loading libtorch. Without <c>--repo DIR</c> it packs this checkout
/// (already built in Release) into a temporary feed, creates a repository with <c>dotnet new llamamoe-repo</c> and builds
/// it once (not measured); with <c>--repo DIR</c> it measures that repository (built once before).
/// Each figure is the median of <c>--repeat N</c> runs (3 by default).
/// </summary>
public static class NoOpBuildBenchmark
{
    /// <summary>The mode's name after <c>--only</c>.</summary>
    public const string Name = "noop-build";

    /// <summary>The usage line.</summary>
    public const string Usage = "usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks -- --only noop-build [--repo DIR] [--repeat N] [--keep]";

    /// <summary>True when <paramref name="args"/> select this mode.</summary>
    public static bool IsRequested(IReadOnlyList<string> args) =>
        Enumerable.Range(0, Math.Max(0, args.Count - 1)).Any(i => args[i] == "--only" && args[i + 1] == Name);

    /// <summary>Runs the mode; returns the exit code (2 for a usage error, 1 when a step failed).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        string? repo = null;
        var repeat = 3;
        var keep = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--only" when i + 1 < args.Count: i++; break;
                case "--no-hugetlb": break;
                case "--keep": keep = true; break;
                case "--repo" when i + 1 < args.Count: repo = Path.GetFullPath(args[++i]); break;
                case "--repeat" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    repeat = n;
                    i++;
                    break;
                default:
                    log.WriteLine($"unknown or incomplete argument '{args[i]}'");
                    log.WriteLine(Usage);
                    return 2;
            }
        }

        var scratch = repo is null ? Path.Combine(Path.GetTempPath(), $"llamamoe-noop-build-{Environment.ProcessId}") : null;
        try
        {
            repo ??= TemplateRepository.Create(scratch!, log);
            if (repo is null)
            {
                return 1;
            }

            var rows = Measure(repo, repeat, log);
            if (rows is null)
            {
                return 1;
            }

            output.WriteLine($"no-op build of {repo} (median of {repeat}):");
            output.WriteLine();
            output.WriteLine("| part | seconds |");
            output.WriteLine("|---|---:|");
            foreach (var (part, seconds) in rows)
            {
                output.WriteLine($"| {part} | {seconds.ToString("F2", CultureInfo.InvariantCulture)} |");
            }

            return 0;
        }
        finally
        {
            if (scratch is not null && !keep && Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static List<(string Part, double Seconds)>? Measure(string repo, int repeat, TextWriter log)
    {
        var cli = TemplateRepository.CliOf(repo);
        var recipes = Directory.GetFiles(Path.Combine(repo, "recipes"), "*.yaml");
        if (cli is null || recipes.Length == 0)
        {
            log.WriteLine($"{repo}: no recipes/*.yaml or no restored llama-moe.dll (obj/.../llamamoe/cli); build it once first");
            return null;
        }

        var parts = new List<(string, Func<Commands.Result>)>
        {
            ("dotnet build (whole no-op build)", () => Commands.Dotnet(repo, "build", "-nodeReuse:false", "-tl:off", "-v:m")),
            ("dotnet build --no-restore", () => Commands.Dotnet(repo, "build", "--no-restore", "-nodeReuse:false", "-tl:off", "-v:m")),
            ("  restore (dotnet restore)", () => Commands.Dotnet(repo, "restore", "-nodeReuse:false", "-tl:off", "-v:m")),
            ("  MSBuild + plugin build, no pipeline (-p:LlamaMoeEnabled=false)", () => Commands.Dotnet(repo, "build", "--no-restore", "-nodeReuse:false", "-tl:off", "-v:m", "-p:LlamaMoeEnabled=false")),
            ("  CLI process start (llama-moe --version)", () => Commands.Dotnet(repo, "exec", cli, "--version")),
            ("  CLI up-to-date run (llama-moe run RECIPE)", () => Commands.Dotnet(Path.GetDirectoryName(recipes[0])!, ["exec", cli, "run", recipes[0]])),
        };
        var rows = new List<(string, double)>();
        foreach (var (part, run) in parts)
        {
            var times = new List<double>();
            for (var i = 0; i < repeat; i++)
            {
                var result = run();
                if (result.ExitCode != 0)
                {
                    log.WriteLine($"{part}: exit code {result.ExitCode}\n{result.Output}");
                    return null;
                }

                times.Add(result.Seconds);
            }

            log.WriteLine($"{part}: {string.Join(", ", times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))} s");
            rows.Add((part, times.Order().ElementAt(times.Count / 2)));
        }

        var watch = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        rows.Add(("  libtorch load (TorchRuntime.EnsureLoaded, in this process)", watch.Elapsed.TotalSeconds));
        return rows;
    }
}
