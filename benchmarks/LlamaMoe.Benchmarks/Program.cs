using System.Diagnostics;
using System.Globalization;
using LlamaMoe.Benchmarks;
using LlamaMoe.Modeling;
using TorchSharp;

// Usage: dotnet run -c Release --project benchmarks/LlamaMoe.Benchmarks [-- --quick] [--only NAME] [--threads N] [--no-hugetlb]
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

var quick = args.Contains("--quick");
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
var threadsText = args.SkipWhile(a => a != "--threads").Skip(1).FirstOrDefault();
var threads = threadsText is null ? Environment.ProcessorCount : int.Parse(threadsText, CultureInfo.InvariantCulture);

TorchRuntime.EnsureLoaded();
torch.set_num_threads(threads);
torch.manual_seed(0);
var work = Path.Combine(Path.GetTempPath(), "llamamoe-bench-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var context = new BenchmarkContext(threads, quick, work);

var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .Where(b => only is null || b.Name == only)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var rows = new List<BenchmarkRow>();
foreach (var benchmark in benchmarks)
{
    Console.Error.WriteLine($"running {benchmark.Name} ...");
    rows.AddRange(benchmark.Run(context));
}

Directory.Delete(work, recursive: true);
Console.WriteLine($"threads: {threads}{(quick ? " (quick)" : string.Empty)}, GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(unset)"}");
Console.WriteLine("| benchmark | case | measured | baseline | ratio | target |");
Console.WriteLine("|---|---|---|---|---:|---:|");
foreach (var row in rows)
{
    var target = row.Target is { } t ? t.ToString("F2", CultureInfo.InvariantCulture) : "";
    Console.WriteLine($"| {row.Benchmark} | {row.Case} | {row.Measured} | {row.Baseline} | {row.Ratio.ToString("F2", CultureInfo.InvariantCulture)} | {target} |");
}

return 0;
