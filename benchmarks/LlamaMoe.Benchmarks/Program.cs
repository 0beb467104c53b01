using System.Diagnostics;
using LlamaMoe.Benchmarks;
using LlamaMoe.Modeling;

// Usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks [-- --quick] [--only NAME] [--threads N] [--out results.md] [--no-hugetlb]
//    or: ... --only side-by-side --device cuda [--shape full|small] [--steps N] [--hf-baseline hf_baseline.py] [--out side-by-side.md] (SideBySideOptions.Usage)
// Prints the detailed table, then a compact summary of ratios (BenchmarkSummary); --out also writes both as markdown.
// First-touch memory is slow on small VMs (platform notes, item 8); glibc backs malloc with transparent huge pages and
// keeps freed buffers warm when NativeAllocatorSettings.RecommendedTunables is in GLIBC_TUNABLES at process start (the
// llama-moe CLI and the MSBuild task use the same settings), so unless GLIBC_TUNABLES is set (or --no-hugetlb is
// given) the launcher re-executes itself with it.
if (!NativeAllocatorSettings.IsConfigured && !args.Contains("--no-hugetlb") && OperatingSystem.IsLinux())
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

    start.Environment[NativeAllocatorSettings.VariableName] = NativeAllocatorSettings.RecommendedTunables;
    using var child = Process.Start(start)!;
    child.WaitForExit();
    return child.ExitCode;
}

return BenchmarkRunner.Run(args, Console.Out, Console.Error);
