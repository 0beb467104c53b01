using System.Globalization;
using System.Text;
using LlamaMoe.Benchmarks.NoOpBuild;
using LlamaMoe.Benchmarks.Recovery;
using LlamaMoe.Benchmarks.SideBySide;
using LlamaMoe.Modeling;
using TorchSharp;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// Runs the benchmarks (all, or <c>--only NAME</c>) in name order, prints the detailed table and then the compact
/// summary (<see cref="BenchmarkSummary"/>), and with <c>--out FILE</c> also writes both as markdown (atomically).
/// </summary>
public static class BenchmarkRunner
{
    /// <summary>The usage line.</summary>
    public const string Usage = "usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks [-- --quick] [--only NAME] [--threads N] [--out results.md] [--no-hugetlb]\n" +
        "   or: ... --only side-by-side --device cuda [...] (our Trainer vs Hugging Face transformers; see SideBySideOptions.Usage)\n" +
        "   or: ... --only noop-build [--repo DIR] [--repeat N] (a no-op dotnet build of a model-build repository, with its breakdown)\n" +
        "   or: ... " + RecoveryBenchmark.Usage + " (the recovery table of pipelines/stories260k-recovery.yaml)";

    /// <summary>Every benchmark in this assembly, by name.</summary>
    public static IReadOnlyList<IBenchmark> All() =>
        typeof(IBenchmark).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>Parses <paramref name="args"/>, runs, prints to <paramref name="output"/> (progress to <paramref name="log"/>); returns the exit code (2 for a usage error).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        if (SideBySideOptions.IsRequested(args))
        {
            return SideBySideBenchmark.Run(args, output, log);
        }

        if (RecoveryBenchmark.IsRequested(args))
        {
            return RecoveryBenchmark.Run(args, output, log);
        }

        if (NoOpBuildBenchmark.IsRequested(args))
        {
            return NoOpBuildBenchmark.Run(args, output, log);
        }

        var quick = false;
        string? only = null, outFile = null;
        var threads = Environment.ProcessorCount;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--no-hugetlb": break;
                case "--only" when i + 1 < args.Count: only = args[++i]; break;
                case "--out" when i + 1 < args.Count: outFile = args[++i]; break;
                case "--threads" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    threads = n;
                    i++;
                    break;
                default:
                    log.WriteLine($"unknown or incomplete argument '{args[i]}'");
                    log.WriteLine(Usage);
                    return 2;
            }
        }

        var benchmarks = All().Where(b => only is null || b.Name == only).ToList();
        if (benchmarks.Count == 0)
        {
            log.WriteLine($"no benchmark named '{only}'; benchmarks: {string.Join(", ", All().Select(b => b.Name))}, and {SideBySideOptions.Name} (its own flags: --only {SideBySideOptions.Name} --help), {NoOpBuildBenchmark.Name} ({NoOpBuildBenchmark.Usage}), and {RecoveryBenchmark.Name} ({RecoveryBenchmark.Usage})");
            return 2;
        }

        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        var work = Path.Combine(Path.GetTempPath(), $"llamamoe-bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var rows = new List<BenchmarkRow>();
        try
        {
            var context = new BenchmarkContext(threads, quick, work);
            foreach (var benchmark in benchmarks)
            {
                log.WriteLine($"running {benchmark.Name} ...");
                var watch = System.Diagnostics.Stopwatch.StartNew();
                rows.AddRange(benchmark.Run(context));
                log.WriteLine($"{benchmark.Name}: {watch.Elapsed.TotalSeconds:F0} s");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        var header = $"threads: {threads}{(quick ? " (quick)" : string.Empty)}, GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(unset)"}";
        var summary = BenchmarkSummary.ToMarkdown(BenchmarkSummary.Summarize(rows));
        var detail = BenchmarkSummary.DetailMarkdown(rows);
        output.WriteLine(header);
        output.Write(detail);
        output.WriteLine();
        output.WriteLine("Summary (ratios; details above):");
        output.Write(summary);
        if (outFile is not null)
        {
            WriteAtomically(outFile, $"# LlamaMoe benchmarks\n\n{header}, {DateTime.UtcNow:yyyy-MM-dd}\n\n## Summary\n\n{summary}\n## Details\n\n{detail}");
            log.WriteLine($"wrote {outFile}");
        }

        return 0;
    }

    private static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, text.ReplaceLineEndings("\n"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, full, overwrite: true);
    }
}
