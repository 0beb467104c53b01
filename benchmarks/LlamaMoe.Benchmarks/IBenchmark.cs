namespace LlamaMoe.Benchmarks;

/// <summary>
/// One benchmark. Benchmarks are discovered by reflection (one class per file) and each returns ratio rows
/// measured side by side in the same run, never absolute timings compared across runs.
/// </summary>
public interface IBenchmark
{
    /// <summary>Short name used on the command line, such as <c>moe-mlp</c>.</summary>
    string Name { get; }

    /// <summary>Runs the benchmark and returns the rows for the summary table.</summary>
    IReadOnlyList<BenchmarkRow> Run(BenchmarkContext context);
}

/// <summary>One row of the summary table.</summary>
/// <param name="Benchmark">The benchmark name.</param>
/// <param name="Case">What was measured, such as <c>H=512, T=4096</c>.</param>
/// <param name="Measured">The measured figure with its unit.</param>
/// <param name="Baseline">The side-by-side baseline figure with its unit.</param>
/// <param name="Ratio">Measured over baseline (higher is better unless the case says otherwise).</param>
/// <param name="Target">The target ratio, or null.</param>
public sealed record BenchmarkRow(string Benchmark, string Case, string Measured, string Baseline, double Ratio, double? Target);

/// <summary>Settings shared by all benchmarks.</summary>
/// <param name="Threads">Torch intra-op threads.</param>
/// <param name="Quick">Smaller sizes and fewer repetitions (for smoke runs).</param>
/// <param name="WorkDirectory">A scratch folder the benchmark may write to.</param>
public sealed record BenchmarkContext(int Threads, bool Quick, string WorkDirectory);
