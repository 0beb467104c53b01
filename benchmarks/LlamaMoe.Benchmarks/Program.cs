using System.Diagnostics;
using LlamaMoe.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks [-- --quick] [--only NAME] [--threads N] [--out results.md] [--no-hugetlb]
// Prints the detailed table, then a compact summary of ratios (BenchmarkSummary); --out also writes both as markdown.
// First-touch memory is slow on small VMs (platform notes, item 8); glibc backs malloc with transparent huge pages when
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 is set at process start, so unless it is set (or --no-hugetlb is given) the
// launcher re-executes itself with it.
if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is null && !args.Contains("--no-hugetlb") && OperatingSystem.IsLinux())
{
    var host = Environment.ProcessPath!;
    var start = new ProcessStartInfo(host) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(host) == "dotnet")
    {
        start.ArgumentList.Add(typeof(IBenchmark).Assembly.Location); // launched as `dotnet LlamaMoe.Benchmarks.dll`
    }

    foreach (var argument in args)
    {
        start.ArgumentList.Add(argument);
    }

    start.Environment["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1";
    using var child = Process.Start(start)!;
    child.WaitForExit();
    return child.ExitCode;
}

return BenchmarkRunner.Run(args, Console.Out, Console.Error);
