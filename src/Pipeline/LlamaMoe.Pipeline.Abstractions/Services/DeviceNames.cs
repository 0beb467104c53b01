namespace LlamaMoe.Pipeline;

/// <summary>
/// The one parser of the device names a user writes (<c>device:</c> in a pipeline, <c>--device</c> on the CLI):
/// <c>auto</c> (CUDA when libtorch sees a device, else CPU), <c>cpu</c> or <c>cuda</c>.
/// </summary>
public static class DeviceNames
{
    /// <summary><c>auto</c>: CUDA when available, else CPU.</summary>
    public const string Auto = "auto";

    /// <summary><c>cpu</c>.</summary>
    public const string Cpu = "cpu";

    /// <summary><c>cuda</c>.</summary>
    public const string Cuda = "cuda";

    /// <summary>Every name a user may write, in the order help texts list them.</summary>
    public static IReadOnlyList<string> All { get; } = [Auto, Cpu, Cuda];

    /// <summary>Whether <paramref name="name"/> is one of <see cref="All"/> (case-sensitive, as YAML and the CLI take it).</summary>
    public static bool IsKnown(string? name) => name is Auto or Cpu or Cuda;

    /// <summary>
    /// The device kind (<c>cpu</c> or <c>cuda</c>) a requested name runs on: <c>cpu</c> and <c>cuda</c> as written, anything
    /// else (<c>auto</c>) CUDA when <paramref name="cudaAvailable"/> says so, else CPU.
    /// </summary>
    public static string Resolve(string? requested, Func<bool> cudaAvailable)
    {
        ArgumentNullException.ThrowIfNull(cudaAvailable);
        return requested switch
        {
            Cpu => Cpu,
            Cuda => Cuda,
            _ => cudaAvailable() ? Cuda : Cpu,
        };
    }
}
