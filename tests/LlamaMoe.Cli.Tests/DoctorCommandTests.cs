using System.Text.Json;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class DoctorCommandTests
{
    /// <summary>Runs without LLAMAMOE_LIBTORCH so the bundled package is what is reported.</summary>
    private static readonly Dictionary<string, string?> Bundled = new() { ["LLAMAMOE_LIBTORCH"] = null };

    [Test]
    public void OnACpuOnlyMachineTheTextHasExactlyOneCudaLineSayingThereIsNoDevice()
    {
        var run = CliProcess.RunWith(Bundled, "doctor");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assume.That(lines.Any(l => l.StartsWith("cuda:0", StringComparison.Ordinal)), Is.False, "this machine has a CUDA device");
        var cuda = lines.Where(l => l.StartsWith("cuda:", StringComparison.Ordinal)).ToList();
        Assert.That(cuda, Has.Count.EqualTo(1));
        Assert.That(cuda[0], Does.EndWith("no CUDA device (CPU-only libtorch)"));
    }

    [Test]
    public void TheTextNamesTheBundledLibtorchFolderBf16ThreadsTf32AndAllocator()
    {
        var run = CliProcess.RunWith(Bundled, "doctor");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        var byLabel = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => (Label: l[..l.IndexOf(':', StringComparison.Ordinal)], Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .GroupBy(l => l.Label).ToDictionary(g => g.Key, g => g.First().Value);
        Assert.That(byLabel["libtorch"], Does.StartWith(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native")));
        Assert.That(byLabel["source"], Does.StartWith("bundled package"));
        Assert.That(byLabel["libtorchsharp"], Does.EndWith("libLibTorchSharp.so"));
        Assert.That(byLabel["bf16"], Does.StartWith("yes"));
        Assert.That(int.Parse(byLabel["threads"], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(byLabel["tf32"], Does.Match("^matmul (on|off), cudnn (on|off)$"));
        Assert.That(byLabel["allocator"], Does.Contain("GLIBC_TUNABLES"));
    }

    [Test]
    public void JsonIsOneObjectWithTheLibtorchSourceCudaAndSettings()
    {
        var run = CliProcess.RunWith(Bundled, "doctor", "--json");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.That(root.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(root.GetProperty("torchSharp").GetString(), Is.EqualTo("0.107.0"));
        Assert.That(root.GetProperty("expectedLibTorch").GetString(), Is.EqualTo("2.10.0"));
        var libtorch = root.GetProperty("libtorch");
        Assert.That(libtorch.GetProperty("source").GetString(), Is.EqualTo("bundled"));
        Assert.That(File.Exists(Path.Combine(libtorch.GetProperty("loadedFrom").GetString()!, "libtorch_cpu.so")), Is.True);
        var cuda = root.GetProperty("cuda");
        Assert.That(cuda.GetProperty("deviceCount").GetInt32(), Is.EqualTo(cuda.GetProperty("devices").GetArrayLength()));
        Assert.That(root.GetProperty("autoDevice").GetString(), Is.EqualTo(cuda.GetProperty("available").GetBoolean() ? "cuda" : "cpu"));
        Assert.That(root.GetProperty("bf16").GetProperty("supported").ValueKind, Is.AnyOf(JsonValueKind.True, JsonValueKind.False));
        Assert.That(root.GetProperty("threads").GetInt32(), Is.GreaterThan(0));
        Assert.That(root.GetProperty("tf32").GetProperty("matmul").ValueKind, Is.AnyOf(JsonValueKind.True, JsonValueKind.False));
        Assert.That(root.GetProperty("allocator").GetProperty("recommendedGlibcTunables").GetString(), Does.Contain("glibc.malloc"));
    }

    [Test]
    public void DoctorIsListedInTheHelp()
    {
        var run = CliProcess.Run("--help");
        Assert.That(run.Stdout, Does.Contain("doctor"));
    }

    [Test]
    public void AnInstallationWithoutLibtorchLoadsTheCachedPackageAndSaysSo()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var native = Path.Combine(cache, "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native");
        Assume.That(File.Exists(Path.Combine(native, "libtorch_cpu.so")), Is.True, "the libtorch package is not in the NuGet cache (restore the solution first)");

        // The .NET tool's shape: the application without the libtorch natives, only the wrapper libraries beside it.
        var app = Path.Combine(Path.GetTempPath(), "llamamoe-tool-shape-" + Guid.NewGuid().ToString("N"));
        try
        {
            CopyWithoutLibtorch(AppContext.BaseDirectory, app);
            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment.Remove("LLAMAMOE_LIBTORCH");
            start.ArgumentList.Add(Path.Combine(app, "llama-moe.dll"));
            start.ArgumentList.Add("doctor");
            start.ArgumentList.Add("--json");
            using var process = System.Diagnostics.Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.That(process.WaitForExit(TimeSpan.FromMinutes(2)), Is.True, "doctor finished");
            Assert.That(process.ExitCode, Is.EqualTo(0), stderr.Result);

            using var json = JsonDocument.Parse(stdout.Result);
            var libtorch = json.RootElement.GetProperty("libtorch");
            Assert.That(libtorch.GetProperty("source").GetString(), Is.EqualTo("package"));
            Assert.That(libtorch.GetProperty("loadedFrom").GetString(), Is.EqualTo(native));
        }
        finally
        {
            if (Directory.Exists(app))
            {
                Directory.Delete(app, recursive: true);
            }
        }
    }

    private static void CopyWithoutLibtorch(string from, string to)
    {
        string[] keptNatives = ["libLibTorchSharp.so", "libHarfBuzzSharp.so", "libSkiaSharp.so"];
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file).Replace('\\', '/');
            var isNative = relative.StartsWith("runtimes/", StringComparison.Ordinal);
            if ((isNative && !(relative.StartsWith("runtimes/linux-x64/native/", StringComparison.Ordinal) && keptNatives.Contains(Path.GetFileName(file))))
                || (!isNative && file.EndsWith(".so", StringComparison.Ordinal) && !keptNatives.Contains(Path.GetFileName(file))))
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
